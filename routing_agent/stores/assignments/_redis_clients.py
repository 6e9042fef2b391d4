"""The Redis client plumbing of ``RedisStore``: sync and per-event-loop async clients, errors, scripts, close.

Clients are injected (as LangGraph's Redis checkpointers take them) or built by factories under the one client
policy of ``routing_agent.stores._redis``. Every Redis or socket error is raised as ``StoreUnavailable``;
``EVALSHA`` runs straight away and loads the script only after ``NOSCRIPT`` (a restart or ``SCRIPT FLUSH``).
"""

from __future__ import annotations

__all__ = ["ERRORS", "RedisClients", "require_redis", "text"]

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from routing_agent.errors import MissingDependency, StoreUnavailable

if TYPE_CHECKING:
    import redis
    import redis.asyncio

try:
    import redis as _redis
    import redis.asyncio as _aredis
    from redis.exceptions import RedisClusterException as _ClusterException
except ImportError:  # pragma: no cover - exercised only without the extra
    _redis = None  # type: ignore[assignment]
    _aredis = None  # type: ignore[assignment]
    _ClusterException = Exception  # type: ignore[assignment,misc]

T = TypeVar("T")

_ERRORS: tuple[type[BaseException], ...] = (
    (_redis.RedisError, _ClusterException, OSError) if _redis is not None else (OSError,)
)


def _require_redis() -> None:
    if _redis is None:
        raise MissingDependency("redis", "redis")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


_closing: set[asyncio.Future[Any]] = set()


def _schedule_close(client: Any) -> None:
    task = asyncio.ensure_future(client.aclose())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


ERRORS = _ERRORS


def require_redis() -> None:
    """``MissingDependency`` with an install hint when the ``redis`` extra is missing."""
    _require_redis()


def text(value: bytes | str) -> str:
    """A reply as ``str``."""
    return _text(value)


class RedisClients:
    """Owns or borrows the sync client and one async client per event loop; errors become StoreUnavailable."""

    def __init__(
        self,
        client: redis.Redis | redis.RedisCluster | None,
        *,
        async_client: redis.asyncio.Redis | redis.asyncio.RedisCluster | None,
        async_factory: Callable[[], redis.asyncio.Redis | redis.asyncio.RedisCluster] | None,
        client_factory: Callable[[], redis.Redis | redis.RedisCluster] | None,
        prefix: str,
    ) -> None:
        _require_redis()
        if client is None and client_factory is None and async_client is None and async_factory is None:
            raise ValueError("RedisStore needs a client (or use RedisStore.from_url / open_store)")
        self.prefix = prefix
        self._client = client
        self._client_factory = client_factory
        self._build_lock = threading.Lock()
        self._async_client = async_client
        self._async_factory = async_factory
        self._loop_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, redis.asyncio.Redis | redis.asyncio.RedisCluster
        ] = weakref.WeakKeyDictionary()
        self._owns_clients = False
        self._closed = False

    # -- clients and errors ------------------------------------------------------------------------------

    def client(self) -> redis.Redis | redis.RedisCluster:
        """The sync client (built on first use), for the stores that live beside this one (reviews).

        ``StoreUnavailable`` when closed or when a cluster client cannot be built."""
        return self._sync()

    def _sync(self) -> redis.Redis | redis.RedisCluster:
        if self._closed:
            raise StoreUnavailable(f"RedisStore ({self.prefix}) is closed")
        if self._client is None:
            if self._client_factory is None:
                raise RuntimeError("this RedisStore has only an async client; use the a* methods")
            with self._build_lock:
                if self._client is None:
                    try:
                        self._client = self._client_factory()
                    except _ERRORS as exc:
                        raise self._unavailable(exc) from exc
        return self._client

    def _aclient(self) -> redis.asyncio.Redis | redis.asyncio.RedisCluster | None:
        if self._closed:
            raise StoreUnavailable(f"RedisStore ({self.prefix}) is closed")
        if self._async_client is not None:
            return self._async_client
        if self._async_factory is None:
            return None
        loop = asyncio.get_running_loop()
        client = self._loop_clients.get(loop)
        if client is None:
            client = self._async_factory()
            self._loop_clients[loop] = client
        return client

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"Redis store ({self.prefix}): {type(exc).__name__}: {exc}")

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except _ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def _acall(self, fn: Callable[[], Awaitable[T]]) -> T:
        try:
            return await fn()
        except _ERRORS as exc:
            raise self._unavailable(exc) from exc

    @staticmethod
    def _evalsha(client: Any, sha: str, script: str, *keys_and_args: Any, keys: int = 2) -> Any:
        # EVALSHA straight away (one round trip); NOSCRIPT only after a server restart or SCRIPT FLUSH.
        try:
            return client.evalsha(sha, keys, *keys_and_args)
        except _redis.exceptions.NoScriptError:
            client.script_load(script)
            return client.evalsha(sha, keys, *keys_and_args)

    @staticmethod
    async def _aevalsha(client: Any, sha: str, script: str, *keys_and_args: Any, keys: int = 2) -> Any:
        try:
            return await client.evalsha(sha, keys, *keys_and_args)
        except _redis.exceptions.NoScriptError:
            await client.script_load(script)
            return await client.evalsha(sha, keys, *keys_and_args)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the clients this store built (injected clients stay open: their owner closes them).

        Later calls raise ``StoreUnavailable``.
        """
        self._closed = True
        if not self._owns_clients:
            return
        if self._client is not None:
            self._client.close()
        for loop, client in list(self._loop_clients.items()):
            if loop.is_closed():
                continue
            if loop.is_running():
                loop.call_soon_threadsafe(_schedule_close, client)
            else:
                loop.run_until_complete(client.aclose())
        self._loop_clients.clear()

    async def arelease(self) -> None:
        """Close the async client bound to the running event loop; the store stays usable.

        For code that runs a short-lived loop per job (``asyncio.run``) and uses the async twins in it.
        """
        client = self._loop_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def aclose(self) -> None:
        """Close the async client of the running loop, then the rest (``close``)."""
        if self._owns_clients and not self._closed:
            client = self._loop_clients.pop(asyncio.get_running_loop(), None)
            if client is not None:
                await client.aclose()
        self.close()
