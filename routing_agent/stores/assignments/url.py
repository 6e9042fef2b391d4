"""``open_store``: turn what a user writes (a URL, a file path, or a store) into an ``AssignmentStore``.

===================================================  ==============================================
``memory://``                                        ``MemoryStore`` (this process only)
``assignments.db``, ``Path(...)``                     ``SQLiteStore`` on that file (the embedded default)
``sqlite:///relative.db``, ``sqlite:////abs/x.db``   ``SQLiteStore`` (SQLAlchemy's spelling)
``redis://[user:password@]host:6379/0``              ``RedisStore``; ``rediss://`` for TLS
``unix:///run/redis.sock?db=0``                      ``RedisStore`` over a Unix socket
===================================================  ==============================================

Query parameters understood on Redis URLs (the rest go to redis-py, e.g. ``ssl_ca_certs``,
``ssl_cert_reqs``, ``socket_timeout``): ``prefix`` (key prefix, default ``routing_agent``),
``password_env`` (name of an environment variable holding the password, so it stays out of configs),
``cluster=true`` (Redis Cluster), ``timeout`` (seconds, socket and connect; default 0.05, and 0.25 for the
asyncio client), ``async_timeout`` (seconds, the asyncio client only).
SQLite URLs take ``busy_timeout_ms``.
"""

from __future__ import annotations

__all__ = ["open_store", "redact_url"]

import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from routing_agent.stores.assignments.base import AssignmentStore

_REDIS_SCHEMES = ("redis", "rediss", "unix")
_TRUE = {"1", "true", "yes", "on"}


def redact_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``: safe for messages and logs."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparseable URL>"
    if not password:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit((parts.scheme, f"{user}:***@{netloc[1]}", parts.path, parts.query, parts.fragment))


def open_store(
    target: AssignmentStore | str | os.PathLike[str] | None,
    *,
    prefix: str | None = None,
    password_env: str | None = None,
    timeout_s: float | None = None,
) -> AssignmentStore:
    """An ``AssignmentStore`` for ``target`` (returned as is when it already is one).

    ``prefix``, ``password_env`` and ``timeout_s`` apply to Redis URLs and override their query parameters.
    ``None`` means ``memory://``. Raises ``ValueError`` for an unknown scheme, ``MissingDependency`` when a
    Redis URL is given without the ``redis`` extra installed.
    """
    if target is None:
        target = "memory://"
    if not isinstance(target, str | os.PathLike):
        if isinstance(target, AssignmentStore):
            return target
        raise TypeError(f"cannot open an assignment store from {type(target).__name__}")
    text = os.fspath(target)
    if "://" not in text:
        from routing_agent.stores.assignments.sqlite import SQLiteStore

        return SQLiteStore(text)
    scheme = text.split("://", 1)[0].lower()
    if scheme == "memory":
        from routing_agent.stores.assignments.memory import MemoryStore

        return MemoryStore()
    if scheme == "sqlite":
        return _open_sqlite(text)
    if scheme in _REDIS_SCHEMES:
        return _open_redis(text, prefix=prefix, password_env=password_env, timeout_s=timeout_s)
    raise ValueError(
        f"unknown assignment store {redact_url(text)!r}: use memory://, a file path or sqlite:///path, "
        "redis://host:6379/0 or rediss://…"
    )


def _open_sqlite(url: str) -> AssignmentStore:
    from routing_agent.stores.assignments.sqlite import SQLiteStore

    parts = urlsplit(url)
    if parts.netloc:
        raise ValueError(
            f"sqlite URL {url!r} has a host; write sqlite:///relative.db or sqlite:////abs/path.db"
        )
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not path:
        raise ValueError(f"sqlite URL {url!r} names no file")
    options = dict(parse_qsl(parts.query))
    busy = int(options.pop("busy_timeout_ms", "2000"))
    if options:
        raise ValueError(f"sqlite URL {url!r}: unknown options {sorted(options)}")
    return SQLiteStore(path, busy_timeout_ms=busy)


def _open_redis(
    url: str, *, prefix: str | None, password_env: str | None, timeout_s: float | None
) -> AssignmentStore:
    from routing_agent.stores.assignments.redis import DEFAULT_PREFIX, RedisStore

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in {"prefix", "password_env", "cluster", "timeout", "async_timeout"}}
    rest = [(k, v) for k, v in query if k not in ours]
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
    env_name = password_env or ours.get("password_env")
    kwargs: dict[str, Any] = {}
    if env_name:
        password = os.environ.get(env_name)
        if password is None:
            raise ValueError(f"Redis password variable ${env_name} is not set (named by password_env)")
        kwargs["password"] = password
    timeout = timeout_s if timeout_s is not None else _seconds(ours.get("timeout"))
    return RedisStore.from_url(
        clean,
        prefix=prefix or ours.get("prefix") or DEFAULT_PREFIX,
        timeout_s=timeout,
        async_timeout_s=_seconds(ours.get("async_timeout")),
        cluster=ours.get("cluster", "").lower() in _TRUE,
        **kwargs,
    )


def _seconds(value: str | None) -> float | None:
    return float(value) if value is not None else None
