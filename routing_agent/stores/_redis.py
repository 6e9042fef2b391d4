"""Redis plumbing of every store family: ONE client policy (timeouts, retries, cluster), errors, key tags.

* ``client_factories`` / ``factories_for``: how every Redis store builds its redis-py clients (see below).
* ``redis_errors()``: the exceptions that mean "Redis is unavailable" (raised as ``StoreUnavailable``).
* ``experiment_tag`` / ``check_prefix``: keys of one experiment share the hash tag ``{exp:<tag>}``, in every
  family, so an experiment lives in one Redis Cluster slot.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_ASYNC_TIMEOUT_S",
    "DEFAULT_PREFIX",
    "DEFAULT_TIMEOUT_S",
    "check_prefix",
    "client_factories",
    "experiment_tag",
    "factories_for",
    "redis_errors",
]

import hashlib
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from routing_agent.errors import MissingDependency

if TYPE_CHECKING:
    import redis
    import redis.asyncio

    from routing_agent.stores._url import StoreURL

DEFAULT_PREFIX = "routing_agent"
"""Key prefix of every Redis store unless ``?prefix=`` says otherwise."""
_SAFE_EXPERIMENT = re.compile(r"[A-Za-z0-9_.\-]{1,128}")

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


def factories_for(
    url: StoreURL, *, default_timeout_s: float | None = None
) -> tuple[
    Callable[[], redis.Redis | redis.RedisCluster],
    Callable[[], redis.asyncio.Redis | redis.asyncio.RedisCluster],
]:
    """``client_factories`` for a parsed Redis ``StoreURL`` (``timeout``, ``async_timeout``, ``cluster``,
    ``password_env``); ``default_timeout_s`` applies when the URL sets no ``timeout``."""
    require_redis()
    password = None
    env_name = url.get("password_env")
    if env_name:
        password = os.environ.get(env_name)
        if password is None:
            raise ValueError(f"Redis password variable ${env_name} is not set (named by password_env)")
    timeout = url.get("timeout", default_timeout_s)
    return client_factories(
        url.location,
        timeout_s=timeout,
        async_timeout_s=url.get("async_timeout"),
        password=password,
        cluster=bool(url.get("cluster", False)),
    )


def require_redis() -> None:
    """``MissingDependency`` with an install hint when the ``redis`` extra is not installed."""
    try:
        import redis  # noqa: F401
    except ImportError as exc:
        raise MissingDependency("redis", "redis") from exc


def redis_errors() -> tuple[type[BaseException], ...]:
    """Exceptions meaning the server is unavailable: redis-py's errors, cluster errors, socket errors."""
    import redis as _redis
    from redis.exceptions import RedisClusterException

    return (_redis.RedisError, RedisClusterException, OSError)


def check_prefix(prefix: str) -> str:
    """``prefix`` when it can start keys (non-empty, no braces: Redis takes the first ``{…}`` as the tag)."""
    if not prefix or "{" in prefix or "}" in prefix:
        raise ValueError(f"Redis key prefix must be non-empty and free of braces, not {prefix!r}")
    return prefix


def experiment_tag(experiment: str) -> str:
    """The hash-tag body for an experiment id: the id itself when safe, else an injective encoding."""
    if _SAFE_EXPERIMENT.fullmatch(experiment):
        return experiment
    raw = experiment.encode("utf-8", "surrogatepass")
    if len(raw) <= 64:
        return "~" + raw.hex()
    return "#" + hashlib.sha256(raw).hexdigest()
