"""Review store in Redis (or Redis Cluster): every reviewer and ``watch`` on every machine sees one queue.

Keys (``P`` = prefix, ``E`` = the experiment's hash tag, the same as the assignment store's, so an
experiment's reviews live in the slot of its state)::

    P:{exp:E}:reviews          hash: review id -> item JSON (canonical, sorted keys)
    P:{exp:E}:review_pending   string: id of the experiment's pending item (absent when none)
    P:reviews:experiments      set: experiments that have review items (for ``review list``)

``submit`` and ``replace`` are Lua scripts over the two keys of one experiment (one slot): create-unless-
pending, and compare-and-set on the stored JSON with the pending slot kept in step. The experiments set is
written with a plain ``SADD`` before the item (idempotent; its own slot in a cluster).
"""

from __future__ import annotations

__all__ = ["RedisReviewStore", "beside", "from_url"]

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from routing_agent.errors import StoreUnavailable
from routing_agent.stores._redis import (
    DEFAULT_PREFIX,
    check_prefix,
    experiment_tag,
    factories_for,
    redis_errors,
)
from routing_agent.stores.capabilities import Capability
from routing_agent.stores.reviews.base import (
    ReviewItem,
    ReviewStatus,
    decode_item,
    encode_item,
    experiment_of,
)

if TYPE_CHECKING:
    from routing_agent.stores._url import StoreURL

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 2.0
"""Review stores are control-plane stores (people, ``watch``): they may wait longer than the routing path."""

_SUBMIT = """
local held = redis.call('GET', KEYS[2])
if held then
  local data = redis.call('HGET', KEYS[1], held)
  if data then return {0, data} end
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {-1, ''} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
return {1, ARGV[2]}
"""

_REPLACE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
local slot = redis.call('GET', KEYS[2])
if ARGV[4] == '1' then
  if slot and slot ~= ARGV[1] then return 0 end
  redis.call('SET', KEYS[2], ARGV[1])
elseif slot == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class RedisReviewStore:
    """Review items in Redis through an injected sync client (``redis.Redis`` or ``redis.RedisCluster``)."""

    capabilities: frozenset[Capability] = frozenset({Capability.MULTI_PROCESS, Capability.MULTI_HOST})

    def __init__(
        self,
        client: Any = None,
        *,
        client_factory: Callable[[], Any] | None = None,
        prefix: str = DEFAULT_PREFIX,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        """``client`` (a redis-py sync client) or ``client_factory`` (returns one, called on each use — e.g. a
        ``RedisStore``'s lazily built client); ``on_close``: what ``close`` releases (e.g. that store)."""
        if client is None and client_factory is None:
            raise ValueError("RedisReviewStore needs a client or a client_factory")
        check_prefix(prefix)
        self._client = client
        self._factory = client_factory
        self.prefix = prefix
        self._on_close = on_close
        self._scripts: tuple[Any, Any, Any] | None = None  # (client, submit, replace)

    @property
    def client(self) -> Any:
        """The sync client in use."""
        return self._client if self._client is not None else self._call(self._factory)  # type: ignore[arg-type]

    def _script(self, which: int) -> Any:
        client = self.client
        if self._scripts is None or self._scripts[0] is not client:
            self._scripts = (client, client.register_script(_SUBMIT), client.register_script(_REPLACE))
        return self._scripts[which]

    def __repr__(self) -> str:
        return f"RedisReviewStore(prefix={self.prefix!r})"

    def _keys(self, experiment: str) -> list[bytes]:
        base = f"{self.prefix}:{{exp:{experiment_tag(experiment)}}}:".encode()
        return [base + b"reviews", base + b"review_pending"]

    @property
    def _index(self) -> str:
        return f"{self.prefix}:reviews:experiments"

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except redis_errors() as exc:
            raise StoreUnavailable(
                f"Redis review store ({self.prefix}): {type(exc).__name__}: {exc}"
            ) from exc

    def submit(self, item: ReviewItem) -> tuple[ReviewItem, bool]:
        """Store ``item`` unless its experiment has a pending item; returns ``(pending item, created)``."""
        if item.status is not ReviewStatus.PENDING:
            raise ValueError("only pending items are submitted")
        self._call(lambda: self.client.sadd(self._index, item.experiment))
        keys = self._keys(item.experiment)
        script = self._script(1)
        created, data = self._call(lambda: script(keys=keys, args=[item.id, encode_item(item)]))
        if int(created) < 0:
            raise ValueError(f"review id {item.id!r} is taken")
        return decode_item(data), bool(int(created))

    def get(self, review_id: str) -> ReviewItem | None:
        """The item with this id, or None."""
        experiment = experiment_of(review_id)
        if not experiment:
            return None
        data = self._call(lambda: self.client.hget(self._keys(experiment)[0], review_id))
        return None if data is None else decode_item(data)

    def items(self, experiment: str | None = None) -> list[ReviewItem]:
        """Every item (of one experiment, or all), oldest first."""
        if experiment is None:
            members = cast("set[Any]", self._call(lambda: self.client.smembers(self._index)))
            experiments = sorted(_text(m) for m in members)
        else:
            experiments = [experiment]
        found: list[ReviewItem] = []
        for name in experiments:
            found.extend(decode_item(v) for v in self._hvals(self._keys(name)[0]))
        return sorted(found, key=lambda i: (i.created_at, i.id))

    def _hvals(self, key: bytes) -> list[Any]:
        return cast("list[Any]", self._call(lambda: self.client.hvals(key)))

    def replace(self, old: ReviewItem, new: ReviewItem) -> bool:
        """Compare-and-set on the stored item (see ``ReviewStore.replace``)."""
        if old.id != new.id or old.experiment != new.experiment:
            raise ValueError("replace keeps the item's id and experiment")
        pending = "1" if new.status is ReviewStatus.PENDING else "0"
        args = [new.id, encode_item(old), encode_item(new), pending]
        keys = self._keys(new.experiment)
        script = self._script(2)
        return bool(self._call(lambda: script(keys=keys, args=args)))

    def close(self) -> None:
        """Release what this store was given to release (the client's owner stays in charge otherwise)."""
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()


def from_url(url: StoreURL) -> RedisReviewStore:
    """The registry's opener: its own client under the one client policy (``?timeout=`` defaults to 2 s).

    The client is built on first use (a cluster client connects when built) and closed by ``close``, after
    which calls raise ``StoreUnavailable``.
    """
    build_sync, _ = factories_for(url, default_timeout_s=DEFAULT_TIMEOUT_S)
    prefix = url.get("prefix", DEFAULT_PREFIX)
    lock = threading.Lock()
    built: list[Any] = []
    closed: list[bool] = []

    def client() -> Any:
        with lock:
            if closed:
                raise StoreUnavailable(f"Redis review store ({prefix}) is closed")
            if not built:
                built.append(build_sync())
            return built[0]

    def close() -> None:
        with lock:
            closed.append(True)
            if built:
                built[0].close()

    return RedisReviewStore(client_factory=client, prefix=prefix, on_close=close)


def beside(store: object, *, owns: bool = False) -> RedisReviewStore | None:
    """The queue beside a ``RedisStore``: its keys under the same prefix and hash tags, through the store's
    public sync client (same URL, credentials, TLS, timeouts, cluster); ``owns`` closes the store too."""
    module = sys.modules.get("routing_agent.stores.assignments.redis")
    if module is None or not isinstance(store, module.RedisStore):
        return None  # not a RedisStore (none exists unless that module was imported)
    return RedisReviewStore(
        client_factory=store.client, prefix=store.prefix, on_close=store.close if owns else None
    )
