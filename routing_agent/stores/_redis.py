"""Redis plumbing of every store family: ONE client policy (timeouts, retries, cluster), errors, key tags.

* ``client_factories`` / ``factories_for``: how every Redis store builds its redis-py clients (see below).
* ``redis_errors()``: the exceptions that mean "Redis is unavailable" (raised as ``StoreUnavailable``).
* ``experiment_tag`` / ``check_prefix``: keys of one experiment share the hash tag ``{exp:<tag>}``, in every
  family, so an experiment lives in one Redis Cluster slot.
* ``check_durability``: a server that can lose data silently (``maxmemory-policy`` other than
  ``noeviction``; neither AOF nor RDB snapshots) is warned about once, or refused (``?durability=refuse``).
* ``retention_of`` (``?retention_days=``, default 30) and ``purge_experiment`` (every key of one experiment).
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_ASYNC_TIMEOUT_S",
    "DEFAULT_PREFIX",
    "DEFAULT_RETENTION_S",
    "DEFAULT_TIMEOUT_S",
    "check_durability",
    "check_on_open",
    "check_prefix",
    "client_factories",
    "experiment_tag",
    "factories_for",
    "purge_experiment",
    "redis_errors",
    "retention_of",
]

import hashlib
import logging
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from routing_agent.errors import MissingDependency, StoreMisconfigured

if TYPE_CHECKING:
    import redis
    import redis.asyncio

    from routing_agent.stores._url import StoreURL

DEFAULT_PREFIX = "routing_agent"
"""Key prefix of every Redis store unless ``?prefix=`` says otherwise."""
_SAFE_EXPERIMENT = re.compile(r"[A-Za-z0-9_.\-]{1,128}")

logger = logging.getLogger("routing_agent.stores")

DEFAULT_RETENTION_S = 30 * 86400.0
"""Unit-scaled keys (assignments, per-unit observations, idempotency ids) expire this long after their last
write, so an experiment's data is gone at most this long after it ended (``?retention_days=``)."""
DURABILITY_MODES = ("warn", "refuse", "ignore")

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


def retention_of(url: StoreURL) -> float | None:
    """The URL's ``?retention_days=`` in seconds (``0``: never expire), else ``DEFAULT_RETENTION_S``."""
    days = url.get("retention_days")
    if days is None:
        return DEFAULT_RETENTION_S
    return None if days == 0 else float(days) * 86400.0


def _config(client: Any, name: str) -> str | None:
    """``CONFIG GET name``, or None when CONFIG is disabled or renamed (managed Redis)."""
    try:
        value = client.config_get(name)
    except Exception:
        return None
    if isinstance(value, dict):
        found = value.get(name)
        return None if found is None else str(found)
    return None


def _first_node(info: Any, field: str) -> Any:
    return next(iter(info.values())) if info and field not in info else info


def durability_problems(client: Any) -> list[str]:
    """What can make this server lose data silently: eviction policy and persistence (INFO, then CONFIG)."""
    import redis as _redis

    problems: list[str] = []
    try:
        memory = client.info("memory")
        persistence = client.info("persistence")
    except _redis.ResponseError:  # INFO renamed away: say we could not check
        return ["INFO is disabled: cannot check maxmemory-policy and persistence; make sure they are set"]
    if isinstance(client, _redis.RedisCluster):  # {node: info}: one answer per node
        memory = _first_node(memory, "maxmemory_policy")
        persistence = _first_node(persistence, "aof_enabled")
    policy = str(memory.get("maxmemory_policy", "unknown"))
    if policy != "noeviction":
        problems.append(
            f"maxmemory-policy is {policy}: Redis may evict assignments and experiment state; set "
            "maxmemory-policy noeviction (evictions are detected and send every unit to control)"
        )
    if not int(persistence.get("aof_enabled", 0)):
        save = _config(client, "save")
        if save is None:
            problems.append(
                "appendonly is off and CONFIG GET is disabled, so RDB snapshots cannot be checked: a restart "
                "may lose data; enable appendonly yes (appendfsync everysec)"
            )
        elif not save.strip():
            problems.append(
                "no persistence (appendonly no, save ''): a restart loses every assignment, rollback and "
                "observation; enable appendonly yes (appendfsync everysec)"
            )
    return problems


_warned: set[str] = set()


def check_durability(client: Any, mode: str, who: str) -> list[str]:
    """Check the server once: ``warn`` logs each problem once per process, ``refuse`` raises
    ``StoreMisconfigured``, ``ignore`` only returns them. Raises redis errors when the server is down."""
    if mode not in DURABILITY_MODES:
        raise ValueError(f"durability must be one of {', '.join(DURABILITY_MODES)}, not {mode!r}")
    problems = durability_problems(client)
    if problems and mode == "refuse":
        raise StoreMisconfigured(
            f"{who}: this Redis can lose data silently: " + "; ".join(problems) + " (or open the store with "
            "?durability=warn to accept the risk)"
        )
    if mode == "warn":
        for problem in problems:
            if problem not in _warned:
                _warned.add(problem)
                logger.warning("%s: %s", who, problem)
    return problems


def check_on_open(client_of: Callable[[], Any], url: StoreURL, who: str) -> None:
    """``check_durability`` when a store is opened from a URL (``?durability=``, default ``warn``).

    A server that cannot be reached now is not checked (the store degrades as usual); ``refuse`` raises."""
    mode = str(url.get("durability", "warn"))
    if mode == "ignore":
        return
    try:
        check_durability(client_of(), mode, who)
    except StoreMisconfigured:
        raise
    except Exception as exc:  # unreachable or a cluster still forming: the calls will say so, counted
        logger.debug("%s: durability not checked: %s", who, exc)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def purge_experiment(client: Any, prefix: str, experiment: str) -> int:
    """Delete every key of ``experiment`` under ``prefix`` (assignments, state, history, observations,
    reviews: they share the hash tag); returns how many were deleted."""
    pattern = _glob_escape(f"{check_prefix(prefix)}:{{exp:{experiment_tag(experiment)}}}:") + "*"
    deleted = 0
    batch: list[Any] = []
    for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += int(client.delete(*batch))
            batch.clear()
    if batch:
        deleted += int(client.delete(*batch))
    client.srem(f"{prefix}:reviews:experiments", experiment)
    return deleted
