"""``open_observation_store(url)``: a backend from a URL or path (the assignment stores' spellings).

``memory://``; ``obs.db`` or ``sqlite:///relative.db`` / ``sqlite:////abs/obs.db``; ``redis://host:6379/0``
(``rediss://`` for TLS; ``?prefix=…`` sets the key prefix, default ``routing_agent``).
"""

from __future__ import annotations

__all__ = ["open_observation_store"]

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from routing_agent.observations.base import ObservationStore


def open_observation_store(target: ObservationStore | str | os.PathLike[str]) -> ObservationStore:
    """An ``ObservationStore`` for ``target`` (returned as is when it already is one)."""
    if not isinstance(target, str | os.PathLike):
        return target
    text = os.fspath(target)
    if "://" not in text:
        from routing_agent.observations.sqlite import SQLiteObservationStore

        return SQLiteObservationStore(text)
    scheme = text.split("://", 1)[0].lower()
    if scheme == "memory":
        from routing_agent.observations.memory import MemoryObservationStore

        return MemoryObservationStore()
    parts = urlsplit(text)
    if scheme == "sqlite":
        from routing_agent.observations.sqlite import SQLiteObservationStore

        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if parts.netloc or not path:
            raise ValueError(f"sqlite URL {text!r}: write sqlite:///relative.db or sqlite:////abs/path.db")
        return SQLiteObservationStore(path)
    if scheme in ("redis", "rediss", "unix"):
        from routing_agent.observations.redis import RedisObservationStore

        query = parse_qsl(parts.query, keep_blank_values=True)
        prefix = next((v for k, v in query if k == "prefix"), None)
        rest = [(k, v) for k, v in query if k != "prefix"]
        clean = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
        return RedisObservationStore.from_url(clean, prefix=prefix or "routing_agent")
    raise ValueError(
        f"unknown observation store {text!r}: use memory://, a file path, sqlite:///…, redis://…"
    )
