"""Shared assignment store on Redis (or Redis Cluster): every worker on every machine sees the same units.

Key layout and scripts: ``_redis_layout`` (one hash tag per experiment, so it works on Redis Cluster).

``get_or_set`` is one round trip: ``EVALSHA`` of a script that GETs, and when absent SETs (PX ttl) and bumps
the count in the same atomic step (``NOSCRIPT`` → load and retry, once per server); ``_redis_batch`` pipelines
it (and the state read) for several experiments in one round trip. Experiment state changes
go through a compare-and-set script that writes the state and appends the history together.

Clients (``_redis_clients``) default to 50 ms socket and connect timeouts (asyncio clients to 250 ms: a busy
event loop reads replies late) and one immediate retry on a broken connection (not on a timeout). Every Redis
or socket error is raised as ``StoreUnavailable``; the routing node degrades on it.
"""

from __future__ import annotations

__all__ = ["DEFAULT_PREFIX", "RedisStore", "from_url"]

import asyncio
import itertools
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from routing_agent.config.spec import ExperimentStatus
from routing_agent.stores._redis import (
    DEFAULT_PREFIX,
    DEFAULT_RETENTION_S,
    check_durability,
    check_on_open,
    client_factories,
    factories_for,
    purge_experiment,
    retention_of,
)
from routing_agent.stores.assignments._common import (
    cas_conflict,
    check_assignment,
    decode_state,
    encode_state,
    new_state,
)
from routing_agent.stores.assignments._redis_batch import RedisBatch
from routing_agent.stores.assignments._redis_clients import ERRORS as _ERRORS
from routing_agent.stores.assignments._redis_clients import require_redis as _require_redis
from routing_agent.stores.assignments._redis_clients import text as _text
from routing_agent.stores.assignments._redis_layout import (
    ACKNOWLEDGE,
    ACKNOWLEDGE_SHA,
    GET_OR_SET,
    GET_OR_SET_SHA,
    READ_STATE,
    READ_STATE_SHA,
    SET_STATE,
    SET_STATE_SHA,
    KeyLayout,
)
from routing_agent.stores.assignments.loss import StoreLoss, StoreLost
from routing_agent.stores.assignments.state import ExperimentState
from routing_agent.stores.capabilities import Capability

if TYPE_CHECKING:
    import redis
    import redis.asyncio

    from routing_agent.stores._url import StoreURL


_PROCESS: list[Any] = [0, "", ""]  # pid, "host:pid" detector, random stem of fresh epochs
_FRESH = itertools.count(1)


class RedisStore(RedisBatch):
    """Sticky assignments, experiment state and counts in Redis; sync and async clients, injected or built."""

    capabilities: frozenset[Capability] = frozenset(
        {Capability.TTL, Capability.MULTI_PROCESS, Capability.MULTI_HOST}
    )

    def __init__(
        self,
        client: redis.Redis | redis.RedisCluster | None = None,
        *,
        async_client: redis.asyncio.Redis | redis.asyncio.RedisCluster | None = None,
        prefix: str = DEFAULT_PREFIX,
        async_factory: Callable[[], redis.asyncio.Redis | redis.asyncio.RedisCluster] | None = None,
        client_factory: Callable[[], redis.Redis | redis.RedisCluster] | None = None,
        retention_s: float | None = DEFAULT_RETENTION_S,
    ) -> None:
        """Use the given clients (as LangGraph's Redis checkpointers do); see ``from_url`` to build them.

        ``async_factory`` builds one async client per event loop (async clients are bound to their loop).
        Without any async client, the async twins run the sync client in a worker thread.
        ``client_factory`` builds the sync client on first use (a ``RedisCluster`` connects when built, and
        an unreachable cluster must degrade the first calls, not crash the constructor).
        ``retention_s``: a unit key without a sticky TTL expires this long after the unit was last routed
        (None: never); the experiment's state and anchor never expire (``purge`` removes them).
        """
        super().__init__(
            client,
            async_client=async_client,
            async_factory=async_factory,
            client_factory=client_factory,
            prefix=prefix,
        )
        self._keys = KeyLayout(prefix)
        self.retention_s = retention_s
        self._epochs: dict[str, str] = {}  # experiment -> the anchor epoch this process knows

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout_s: float | None = None,
        async_timeout_s: float | None = None,
        password: str | None = None,
        cluster: bool = False,
        retention_s: float | None = DEFAULT_RETENTION_S,
        **client_kwargs: Any,
    ) -> RedisStore:
        """Build sync and (per event loop) async clients from a ``redis://`` / ``rediss://`` URL.

        ``timeout_s`` sets socket and connect timeouts (default 50 ms for the sync client and, when
        ``async_timeout_s`` is not given, for the async one too; the async default is 250 ms). ``password``
        overrides the URL's; ``cluster`` uses ``RedisCluster``. Extra keyword arguments go to redis-py.
        """
        _require_redis()
        build_sync, build_async = client_factories(
            url,
            timeout_s=timeout_s,
            async_timeout_s=async_timeout_s,
            password=password,
            cluster=cluster,
            client_kwargs=client_kwargs,
        )
        client = None if cluster else build_sync()  # a plain client connects lazily by itself
        store = cls(
            client,
            prefix=prefix,
            async_factory=build_async,
            client_factory=build_sync,
            retention_s=retention_s,
        )
        store._owns_clients = True
        return store

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r})"

    # -- keys --------------------------------------------------------------------------------------------

    def _base(self, experiment: str) -> bytes:
        return self._keys.base(experiment)

    def unit_key(self, experiment: str, unit_id: str) -> bytes:
        """The Redis key holding a unit's variant."""
        return self._keys.unit(experiment, unit_id)

    def experiment_keys(self, experiment: str) -> dict[str, bytes]:
        """The fixed keys of an experiment: ``counts``, ``state``, ``history``."""
        return {name: self._keys.fixed(experiment, name) for name in ("counts", "state", "history")}

    # -- anchor (store-loss detection) ---------------------------------------------------------------

    @staticmethod
    def _detector() -> str:
        pid = os.getpid()
        if _PROCESS[0] != pid:  # first call, or a forked child: new detector name and token stem
            _PROCESS[:] = [pid, f"{socket.gethostname()}:{pid}", secrets.token_hex(4)]
        return cast("str", _PROCESS[1])

    def _anchor_args(self, experiment: str) -> list[str]:
        # The fresh epoch (used only when an anchor is made) is unique per call: a per-process random stem
        # plus a counter, without a system call for randomness on every routing decision.
        detector = self._detector()
        return [self._epochs.get(experiment, ""), f"{_PROCESS[2]}{next(_FRESH):x}", detector]

    def _anchored(self, experiment: str, epoch: Any, loss: Any) -> StoreLoss | None:
        """Remember the epoch the store answered with; the loss it recorded, if any."""
        self._epochs[experiment] = _text(epoch)
        return StoreLoss.decode(experiment, loss) if loss else None

    def read_state(self, experiment: str) -> tuple[ExperimentState | None, StoreLoss | None]:
        """The live state and the loss recorded for the experiment (one round trip).

        Checks the experiment's anchor on the way: makes it on first contact, and records a loss (for every
        worker) when it is gone or replaced since this process last saw it, or the server evicted keys."""
        keys = (self._base(experiment) + b"state", self._base(experiment) + b"counts")
        args = self._anchor_args(experiment)
        client = self._sync()
        version, data, epoch, loss = self._call(
            lambda: self._evalsha(client, READ_STATE_SHA, READ_STATE, *keys, *args)
        )
        state = decode_state(int(version), data) if version and data else None
        return state, self._anchored(experiment, epoch, loss)

    async def aread_state(self, experiment: str) -> tuple[ExperimentState | None, StoreLoss | None]:
        """Async twin of ``read_state``."""
        client = self._aclient()
        if client is None:
            return await asyncio.to_thread(self.read_state, experiment)
        keys = (self._base(experiment) + b"state", self._base(experiment) + b"counts")
        args = self._anchor_args(experiment)
        version, data, epoch, loss = await self._acall(
            lambda: self._aevalsha(client, READ_STATE_SHA, READ_STATE, *keys, *args)
        )
        state = decode_state(int(version), data) if version and data else None
        return state, self._anchored(experiment, epoch, loss)

    def _state_args(self, experiment: str) -> tuple[Any, ...]:
        base = self._base(experiment)
        return (base + b"state", base + b"counts", *self._anchor_args(experiment))

    def loss(self, experiment: str) -> StoreLoss | None:
        """The loss recorded for the experiment, if any (a plain read: checks nothing, records nothing)."""
        key = self._base(experiment) + b"state"
        client = self._sync()
        raw = self._call(lambda: client.hget(key, "lost"))
        return None if raw is None else StoreLoss.decode(experiment, raw)

    def acknowledge_loss(self, experiment: str, *, actor: str, reason: str = "") -> bool:
        """Clear a recorded loss (a person says the state is known again); False when none was recorded.

        Workers leave control-for-everyone on their next state read; units whose assignment was lost are
        randomized again (their earlier variant is unknown)."""
        key = self._base(experiment) + b"state"
        note = f"{actor}|{int(time.time())}|{reason}"
        fresh = secrets.token_hex(4)
        client = self._sync()
        cleared = self._call(
            lambda: self._evalsha(client, ACKNOWLEDGE_SHA, ACKNOWLEDGE, key, note, fresh, keys=1)
        )
        self._epochs.pop(experiment, None)
        return bool(cleared)

    def purge(self, experiment: str) -> int:
        """Delete every key of the experiment under this prefix (every store family); returns how many."""
        self._epochs.pop(experiment, None)
        return self._call(lambda: purge_experiment(self._sync(), self.prefix, experiment))

    def check_server(self, mode: str = "warn") -> list[str]:
        """Warn about (``warn``) or refuse (``refuse``: ``StoreMisconfigured``) a server that can lose data
        (``maxmemory-policy`` other than ``noeviction``, no persistence); returns the problems found."""
        return check_durability(self._sync(), mode, f"Redis store ({self.prefix})")

    # -- assignments -------------------------------------------------------------------------------------

    def _gos_args(self, experiment: str, unit_id: str, variant: str, ttl_s: float | None) -> tuple[Any, ...]:
        check_assignment(experiment, unit_id, variant, ttl_s)
        ttl_ms = 0 if ttl_s is None else max(1, round(ttl_s * 1000))
        keep_ms = 0 if self.retention_s is None else max(1, round(self.retention_s * 1000))
        base = self._base(experiment)
        return (
            self.unit_key(experiment, unit_id),
            base + b"counts",
            base + b"state",
            variant,
            ttl_ms,
            *self._anchor_args(experiment),
            keep_ms,
        )

    def _claimed(self, experiment: str, reply: list[Any]) -> tuple[str, bool]:
        held, created, epoch, loss = reply
        found = self._anchored(experiment, epoch, loss)
        if found is not None:
            raise StoreLost(found)
        return _text(held), bool(created)

    def get_or_set(
        self, experiment: str, unit_id: str, variant: str, *, ttl_s: float | None = None
    ) -> tuple[str, bool]:
        """Store ``variant`` unless the unit holds one (one round trip); returns ``(held, created)``."""
        args = self._gos_args(experiment, unit_id, variant, ttl_s)
        client = self._sync()
        try:
            reply = self._evalsha(client, GET_OR_SET_SHA, GET_OR_SET, *args, keys=3)
        except _ERRORS as exc:
            raise self._unavailable(exc) from exc
        return self._claimed(experiment, reply)

    async def aget_or_set(
        self, experiment: str, unit_id: str, variant: str, *, ttl_s: float | None = None
    ) -> tuple[str, bool]:
        """Async twin of ``get_or_set``."""
        args = self._gos_args(experiment, unit_id, variant, ttl_s)
        client = self._aclient()
        if client is None:
            return await asyncio.to_thread(self.get_or_set, experiment, unit_id, variant, ttl_s=ttl_s)
        try:
            reply = await self._aevalsha(client, GET_OR_SET_SHA, GET_OR_SET, *args, keys=3)
        except _ERRORS as exc:
            raise self._unavailable(exc) from exc
        return self._claimed(experiment, reply)

    def get(self, experiment: str, unit_id: str) -> str | None:
        """The unit's variant, or None (expired keys are gone)."""
        key = self.unit_key(experiment, unit_id)
        client = self._sync()
        value = self._call(lambda: client.get(key))
        return None if value is None else _text(value)

    async def aget(self, experiment: str, unit_id: str) -> str | None:
        """Async twin of ``get``."""
        client = self._aclient()
        if client is None:
            return await asyncio.to_thread(self.get, experiment, unit_id)
        key = self.unit_key(experiment, unit_id)
        value = await self._acall(lambda: cast("Awaitable[Any]", client.get(key)))
        return None if value is None else _text(value)

    def counts(self, experiment: str) -> dict[str, int]:
        """Assignments created per variant."""
        key = self._base(experiment) + b"counts"
        client = self._sync()
        raw = cast("dict[Any, Any]", self._call(lambda: client.hgetall(key)))
        return {_text(k): int(v) for k, v in raw.items() if _text(k) != "@anchored"}

    # -- experiment state --------------------------------------------------------------------------------

    @staticmethod
    def _parse_state(values: list[Any]) -> ExperimentState | None:
        version, data = values
        return None if version is None or data is None else decode_state(int(version), data)

    def get_state(self, experiment: str) -> ExperimentState | None:
        """The live state, or None when never set."""
        key = self._base(experiment) + b"state"
        client = self._sync()
        return self._parse_state(
            self._call(lambda: cast("list[Any]", client.hmget(key, ["version", "data"])))
        )

    async def aget_state(self, experiment: str) -> ExperimentState | None:
        """Async twin of ``get_state``."""
        client = self._aclient()
        if client is None:
            return await asyncio.to_thread(self.get_state, experiment)
        key = self._base(experiment) + b"state"
        values = await self._acall(lambda: cast("Awaitable[Any]", client.hmget(key, ["version", "data"])))
        return self._parse_state(values)

    def set_state(
        self,
        experiment: str,
        status: ExperimentStatus,
        *,
        actor: str,
        reason: str = "",
        winner: str | None = None,
        evidence: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> ExperimentState:
        """Record a state change and its history entry atomically (compare-and-set when asked)."""
        draft = new_state(experiment, status, actor=actor, reason=reason, winner=winner, evidence=evidence)
        base = self._base(experiment)
        expected = "" if expected_version is None else str(int(expected_version))
        args = [encode_state(draft), expected, secrets.token_hex(4)]
        client = self._sync()
        ok, version = self._call(
            lambda: self._evalsha(client, SET_STATE_SHA, SET_STATE, base + b"state", base + b"history", *args)
        )
        if not ok:
            raise cas_conflict(experiment, int(cast("int", expected_version)), int(version))
        return decode_state(int(version), encode_state(draft))

    def history(self, experiment: str) -> list[ExperimentState]:
        """Every state change, oldest first."""
        key = self._base(experiment) + b"history"
        client = self._sync()
        entries = cast("list[Any]", self._call(lambda: client.lrange(key, 0, -1)))
        states = []
        for entry in entries:
            version, _, data = _text(entry).partition("\n")
            states.append(decode_state(int(version), data))
        return states


def from_url(url: StoreURL) -> RedisStore:
    """The registry's opener (``routing_agent.stores._url``): 50 ms sync / 250 ms asyncio timeouts unless
    ``?timeout=`` / ``?async_timeout=`` say otherwise (a routing decision must not wait on Redis)."""
    build_sync, build_async = factories_for(url)
    cluster = bool(url.get("cluster", False))
    client = None if cluster else build_sync()  # a plain client connects lazily by itself
    store = RedisStore(
        client,
        prefix=url.get("prefix", DEFAULT_PREFIX),
        async_factory=build_async,
        client_factory=build_sync,
        retention_s=retention_of(url),
    )
    store._owns_clients = True
    check_on_open(store.client, url, f"Redis store ({store.prefix})")
    return store
