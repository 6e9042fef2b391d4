"""Connection plumbing of the Redis observation store: clients built on first use, scripts, errors.

``RedisObservationClient`` holds the client (injected, or built by a factory on first use: a ``RedisCluster``
connects when built, and an unreachable cluster must fail the first writes, counted, not the constructor),
registers the scripts, turns every Redis or socket error into ``StoreUnavailable`` and closes what it built.
The store itself (writes and reads): ``routing_agent.stores.observations.redis``.
"""

from __future__ import annotations

__all__ = ["DEFAULT_DEDUP_WINDOW_S", "DEFAULT_TIMEOUT_S", "RedisObservationClient"]

import threading
from collections.abc import Callable
from typing import Any, Self, TypeVar

from routing_agent.errors import StoreUnavailable
from routing_agent.stores._redis import (
    DEFAULT_PREFIX,
    DEFAULT_RETENTION_S,
    check_prefix,
    client_factories,
    experiment_tag,
    redis_errors,
    require_redis,
)
from routing_agent.stores.observations._redis_records import SUMS
from routing_agent.stores.observations._redis_scripts import ADD

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 2.0
"""Observation writes run off the graph's thread (``BufferedObservationWriter``), so they may wait longer."""
DEFAULT_DEDUP_WINDOW_S = 3600.0
"""An observation id is remembered (a retry of it ignored) for at least this long after its time window."""


class RedisObservationClient:
    """The client, scripts and error policy of a Redis observation store (see the module docstring)."""

    def __init__(
        self,
        client: Any = None,
        *,
        prefix: str = DEFAULT_PREFIX,
        client_factory: Callable[[], Any] | None = None,
        retention_s: float | None = DEFAULT_RETENTION_S,
        dedup_window_s: float = DEFAULT_DEDUP_WINDOW_S,
    ) -> None:
        """Use ``client``, or build one with ``client_factory`` on first use (a ``RedisCluster`` connects when
        built, and an unreachable cluster must fail the first writes, counted, not the constructor).

        ``retention_s``: every key expires this long after its last write (None: never); ``dedup_window_s``:
        how long an observation id is remembered at least (retries later than that would count twice)."""
        check_prefix(prefix)
        if not dedup_window_s > 0:
            raise ValueError(f"dedup_window_s must be positive, not {dedup_window_s!r}")
        self.retention_s = retention_s
        self.dedup_window_s = float(dedup_window_s)
        if client is None and client_factory is None:
            raise ValueError(
                "RedisObservationStore needs a client (or use from_url / open_observation_store)"
            )
        self.prefix = prefix
        self._factory = client_factory
        self._build_lock = threading.Lock()
        self._bound: Any = None
        self._script: Any = None
        self._sums: Any = None
        self._owns_client = False
        self._closed = False
        if client is not None:
            self._bind(client)

    def _bind(self, client: Any) -> None:
        self._script = client.register_script(ADD)
        self._sums = client.register_script(SUMS)
        self._bound = client

    @property
    def _client(self) -> Any:
        if self._closed:
            raise StoreUnavailable(f"Redis observation store ({self.prefix}) is closed")
        if self._bound is None:
            assert self._factory is not None
            with self._build_lock:
                if self._bound is None:
                    self._bind(self._call(self._factory))
        return self._bound

    @property
    def _add(self) -> Any:
        if self._script is None or self._closed:
            _ = self._client  # builds and binds the client on first use (or raises StoreUnavailable)
        return self._script

    @property
    def _sum_script(self) -> Any:
        _ = self._add
        return self._sums

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        password: str | None = None,
        cluster: bool = False,
        retention_s: float | None = DEFAULT_RETENTION_S,
    ) -> Self:
        """Build a client from a ``redis://`` / ``rediss://`` / ``unix://`` URL under the one client policy of
        every Redis store (``routing_agent.stores._redis``: timeouts, one retry on a broken connection).

        ``password`` overrides the URL's; ``cluster`` uses ``RedisCluster``. Every key of one experiment
        shares a hash tag, so each Lua call touches one cluster slot.
        """
        require_redis()
        build_sync, _ = client_factories(url, timeout_s=timeout_s, password=password, cluster=cluster)
        return cls._owning(build_sync, prefix=prefix, cluster=cluster, retention_s=retention_s)

    @classmethod
    def _owning(
        cls, build: Callable[[], Any], *, prefix: str, cluster: bool, retention_s: float | None
    ) -> Self:
        # A cluster client connects when built: build it on first use, so an unreachable cluster fails the
        # first writes (counted by the writer), not the constructor.
        store = (
            cls(prefix=prefix, client_factory=build, retention_s=retention_s)
            if cluster
            else cls(build(), prefix=prefix, retention_s=retention_s)
        )
        store._owns_client = True
        return store

    def _base(self, experiment: str) -> str:
        return f"{self.prefix}:{{exp:{experiment_tag(experiment)}}}:o:"

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._closed:
            raise StoreUnavailable(f"Redis observation store ({self.prefix}) is closed")
        try:
            return fn(*args, **kwargs)
        except redis_errors() as exc:
            raise StoreUnavailable(f"Redis observation store ({self.prefix}): {exc}") from exc

    @property
    def _cluster(self) -> bool:
        import redis as _redis

        return isinstance(self._client, _redis.RedisCluster)

    def close(self) -> None:
        """Close the client when this store built it (idempotent)."""
        if not self._closed:
            self._closed = True
            if self._owns_client and self._bound is not None:
                self._bound.close()
