"""``open_observation_store(url)``: a backend from a URL or path (the assignment stores' spellings).

``memory://``; ``obs.db`` or ``sqlite:///relative.db`` / ``sqlite:////abs/obs.db``; ``redis://host:6379/0``
(``rediss://`` for TLS). Redis query parameters, as for assignment stores: ``prefix`` (default
``routing_agent``), ``password_env`` (name of the variable holding the password), ``cluster=true`` (Redis
Cluster), ``timeout`` (seconds, default 2: writes run off the graph's thread); the rest go to redis-py.
"""

from __future__ import annotations

__all__ = ["open_observation_store"]

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from routing_agent.stores.assignments.url import redact_url
from routing_agent.stores.observations.base import ObservationStore

_OURS = frozenset({"prefix", "password_env", "cluster", "timeout"})


def open_observation_store(target: ObservationStore | str | os.PathLike[str]) -> ObservationStore:
    """An ``ObservationStore`` for ``target`` (returned as is when it already is one)."""
    if not isinstance(target, str | os.PathLike):
        return target
    text = os.fspath(target)
    if "://" not in text:
        from routing_agent.stores.observations.sqlite import SQLiteObservationStore

        return SQLiteObservationStore(text)
    scheme = text.split("://", 1)[0].lower()
    if scheme == "memory":
        from routing_agent.stores.observations.memory import MemoryObservationStore

        return MemoryObservationStore()
    parts = urlsplit(text)
    if scheme == "sqlite":
        from routing_agent.stores.observations.sqlite import SQLiteObservationStore

        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if parts.netloc or not path:
            raise ValueError(f"sqlite URL {text!r}: write sqlite:///relative.db or sqlite:////abs/path.db")
        return SQLiteObservationStore(path)
    if scheme in ("redis", "rediss", "unix"):
        from routing_agent.stores.observations.redis import RedisObservationStore

        query = parse_qsl(parts.query, keep_blank_values=True)
        ours = {k: v for k, v in query if k in _OURS}
        rest = [(k, v) for k, v in query if k not in _OURS]
        clean = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
        password = None
        if ours.get("password_env"):
            password = os.environ.get(ours["password_env"])
            if password is None:
                raise ValueError(
                    f"Redis password variable ${ours['password_env']} is not set (named by password_env)"
                )
        return RedisObservationStore.from_url(
            clean,
            prefix=ours.get("prefix") or "routing_agent",
            timeout_s=float(ours.get("timeout", 2.0)),
            password=password,
            cluster=ours.get("cluster", "").lower() in {"1", "true", "yes", "on"},
        )
    raise ValueError(
        f"unknown observation store {redact_url(text)!r}: use memory://, a file path, sqlite:///…, redis://…"
    )
