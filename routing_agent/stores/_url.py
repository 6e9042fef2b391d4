"""One URL grammar for every store family: the scheme registry and the options parser.

::

    memory://                                         this process only
    <file path>  |  sqlite:///relative.db  |  sqlite:////abs/path.db          [?busy_timeout_ms=N]
    redis://[user:password@]host:6379/0  |  rediss://…  |  unix:///run/redis.sock     [?prefix=…&timeout=…]

``None`` means ``memory://``. A backend is registered once, for every family, in ``BACKENDS`` (its module
name, its schemes, the options it understands, how its URL names a location); each family package has one
module per backend exposing ``from_url(url: StoreURL) -> store``. An option no backend of that scheme
understands is refused with the list of the ones it does, for every family alike.
"""

from __future__ import annotations

__all__ = ["BACKENDS", "REDIS_CLIENT_OPTIONS", "Backend", "StoreURL", "open_url", "parse_url", "redact_url"]

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number of seconds")
    return value


def _days(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be a number of days >= 0 (0: never expire)")
    return value


def _durability(text: str) -> str:
    if text not in ("warn", "refuse", "ignore"):
        raise ValueError("must be warn, refuse or ignore")
    return text


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered not in _TRUE | _FALSE:
        raise ValueError("must be true or false")
    return lowered in _TRUE


def _text(text: str) -> str:
    if not text:
        raise ValueError("must not be empty")
    return text


REDIS_CLIENT_OPTIONS = frozenset(
    {
        "db",
        "health_check_interval",
        "max_connections",
        "protocol",
        "socket_keepalive",
        "socket_read_size",
        "ssl_ca_certs",
        "ssl_ca_path",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_cert_reqs",
        "ssl_check_hostname",
        "ssl_min_version",
        "client_name",
    }
)
"""redis-py connection options a Redis URL may carry; they go to redis-py as written. Timeouts and retries
are not among them: ``timeout`` / ``async_timeout`` and the one client policy of ``_redis`` set those."""


def _driver_url(text: str, parts: SplitResult, passthrough: list[tuple[str, str]]) -> str:
    """A network store's location: the URL as written, minus the options this package consumed."""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(passthrough), parts.fragment))


def _file_path(text: str, parts: SplitResult, passthrough: list[tuple[str, str]]) -> str:
    """``sqlite:///relative.db`` → ``relative.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    if parts.netloc:
        raise ValueError(
            f"sqlite URL {text!r} has a host; write sqlite:///relative.db or sqlite:////abs/path.db"
        )
    location = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not location:
        raise ValueError(f"sqlite URL {text!r} names no file")
    return location


def _nowhere(text: str, parts: SplitResult, passthrough: list[tuple[str, str]]) -> str:
    """``memory://`` names no place."""
    if parts.netloc or parts.path:
        raise ValueError(f"memory URL {text!r}: write memory:// (nothing after it)")
    return ""


@dataclass(frozen=True)
class Backend:
    """A backend of every store family: ``routing_agent.stores.<family>.<module>`` implements it."""

    module: str
    schemes: tuple[str, ...]
    options: Mapping[str, Callable[[str], Any]] = field(default_factory=dict)
    passthrough: frozenset[str] = frozenset()  # options left in the URL for the driver
    locate: Callable[[str, SplitResult, list[tuple[str, str]]], str] = _driver_url
    """Turns the URL into the backend's location (``StoreURL.location``); ``ValueError`` when malformed."""


BACKENDS: tuple[Backend, ...] = (
    Backend("memory", ("memory",), locate=_nowhere),
    Backend("sqlite", ("sqlite",), {"busy_timeout_ms": _positive_int}, locate=_file_path),
    Backend(
        "redis",
        ("redis", "rediss", "unix"),
        {
            "prefix": _text,
            "password_env": _text,
            "cluster": _flag,
            "timeout": _seconds,
            "async_timeout": _seconds,
            "retention_days": _days,
            "durability": _durability,
        },
        REDIS_CLIENT_OPTIONS,
    ),
)
"""The registry: adding a backend is one line here plus one module per family."""

_BY_SCHEME = {scheme: b for b in BACKENDS for scheme in b.schemes}


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: the backend, its location and the options it understood (parsed)."""

    text: str  # as written (use ``redact_url`` before showing it)
    backend: Backend
    location: str  # SQLite: the file path; Redis: the URL without our options; memory: ""
    options: Mapping[str, Any]

    def get(self, name: str, default: Any = None) -> Any:
        """A parsed option, or ``default`` when the URL does not set it."""
        return self.options.get(name, default)


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


def parse_url(target: str | os.PathLike[str] | None, **overrides: Any) -> StoreURL:
    """Parse what a user writes into a ``StoreURL``; ``ValueError`` names what is wrong and how to fix it.

    ``overrides`` (options given as arguments, e.g. ``prefix=``) win over the URL's; ``None`` values and
    options the backend does not take (a ``prefix`` for a SQLite file) are ignored.
    """
    text = "memory://" if target is None else os.fspath(target)
    if "://" not in text:  # a plain file path: SQLite
        return _checked(StoreURL(text, _BY_SCHEME["sqlite"], text, {}), overrides)
    scheme = text.split("://", 1)[0].lower()
    backend = _BY_SCHEME.get(scheme)
    if backend is None:
        known = ", ".join(f"{s}://" for s in _BY_SCHEME)
        raise ValueError(f"unknown store {redact_url(text)!r}: use a file path or one of {known}")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise ValueError(f"store URL {redact_url(text)!r}: {exc}") from exc
    query = parse_qsl(parts.query, keep_blank_values=True)
    options: dict[str, Any] = {}
    rest: list[tuple[str, str]] = []
    for name, value in query:
        if name in backend.options:
            options[name] = _parse_option(text, backend, name, value)
        elif name in backend.passthrough:
            rest.append((name, value))
        else:
            raise ValueError(_unknown(text, backend, name))
    return _checked(StoreURL(text, backend, backend.locate(text, parts, rest), options), overrides)


def _parse_option(text: str, backend: Backend, name: str, value: str) -> Any:
    try:
        return backend.options[name](value)
    except ValueError as exc:
        raise ValueError(f"store URL {redact_url(text)!r}: option {name}={value!r} {exc}") from None


def _unknown(text: str, backend: Backend, name: str) -> str:
    known = ", ".join(sorted(backend.options)) or "no options"
    if backend.passthrough:
        known += f" and the redis-py options {', '.join(sorted(backend.passthrough))}"
    where = f"store URL {redact_url(text)!r}"
    return f"{where}: unknown option {name!r}; {backend.schemes[0]}:// understands {known}"


def _checked(url: StoreURL, overrides: Mapping[str, Any]) -> StoreURL:
    given = {k: v for k, v in overrides.items() if v is not None and k in url.backend.options}
    if not given:
        return url
    return StoreURL(url.text, url.backend, url.location, {**url.options, **given})


def open_url(family: str, target: str | os.PathLike[str] | None, **overrides: Any) -> Any:
    """Open a store of ``family`` (``assignments``, ``observations``, ``reviews``) for ``target``."""
    url = parse_url(target, **overrides)
    module = importlib.import_module(f"routing_agent.stores.{family}.{url.backend.module}")
    return module.from_url(url)
