"""Building redis-py clients for the stores: timeouts, retries, cluster mode (one place for every store)."""

from __future__ import annotations

__all__ = ["DEFAULT_ASYNC_TIMEOUT_S", "DEFAULT_TIMEOUT_S", "client_factories"]

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis
    import redis.asyncio

DEFAULT_TIMEOUT_S = 0.05
"""Sync clients: a routing decision waits at most this long for Redis before it falls back to the hash."""
DEFAULT_ASYNC_TIMEOUT_S = 0.25
"""asyncio clients wait longer by default: on a busy event loop the reply is read late even when Redis is fast
(in the load test, 50 ms made a healthy server look down for a third of the decisions; 250 ms for none)."""


def client_factories(
    url: str,
    *,
    timeout_s: float | None = None,
    async_timeout_s: float | None = None,
    password: str | None = None,
    cluster: bool = False,
    client_kwargs: dict[str, Any] | None = None,
) -> tuple[
    Callable[[], redis.Redis | redis.RedisCluster],
    Callable[[], redis.asyncio.Redis | redis.asyncio.RedisCluster],
]:
    """``(build_sync, build_async)`` for ``url``.

    ``timeout_s`` sets socket and connect timeouts (default 50 ms for the sync client and, when
    ``async_timeout_s`` is not given, for the async one too; the async default is 250 ms). One immediate
    retry on a broken connection (e.g. after a server restart), none on a timeout; a cluster client retries
    once after its topology refresh (redis-py's default of 10 attempts with back-off costs ~0.4 s on a node
    that stalls).
    """
    import redis as _redis
    import redis.asyncio as _aredis
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    sync_timeout = timeout_s if timeout_s is not None else DEFAULT_TIMEOUT_S
    if async_timeout_s is None:
        async_timeout_s = timeout_s if timeout_s is not None else DEFAULT_ASYNC_TIMEOUT_S
    extra = dict(client_kwargs or {})
    if password is not None:
        extra["password"] = password
    sync_kwargs = {"socket_timeout": sync_timeout, "socket_connect_timeout": sync_timeout, **extra}
    async_kwargs = {"socket_timeout": async_timeout_s, "socket_connect_timeout": async_timeout_s, **extra}

    def build_sync() -> redis.Redis | redis.RedisCluster:
        if cluster:
            return _redis.RedisCluster.from_url(url, retry=Retry(NoBackoff(), 1), **sync_kwargs)
        retry = Retry(NoBackoff(), 1, supported_errors=(_redis.ConnectionError,))
        return _redis.Redis.from_url(url, retry=retry, **sync_kwargs)

    def build_async() -> redis.asyncio.Redis | redis.asyncio.RedisCluster:
        if cluster:
            return _aredis.RedisCluster.from_url(url, retry=AsyncRetry(NoBackoff(), 1), **async_kwargs)
        retry = AsyncRetry(NoBackoff(), 1, supported_errors=(_redis.ConnectionError,))
        return _aredis.Redis.from_url(url, retry=retry, **async_kwargs)

    return build_sync, build_async
