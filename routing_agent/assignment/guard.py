"""A store wrapper that never raises: outage detection, back-off, write-back and a state cache.

When a store call fails (down, slow past its client timeout, read-only, any exception), the guard:

* returns ``None`` so the assigner falls back to the deterministic hash (reason ``store_unavailable``);
* logs once per outage and counts the outage and every fallback;
* stops calling the store for a back-off period, then lets one call probe it (``assignment.outage``);
* remembers the units assigned during the outage (bounded; overflow is counted) and writes them back from a
  background thread once the store answers again (``assignment.writeback``): nothing flips.

Units the store has answered for are remembered (``RecentAssignments``) and answered from memory: a returning
unit costs no round trip and keeps its variant through an outage. Experiment state is cached for
``state_refresh_s``; when the store cannot be read the last known state stays. ``get_or_set_many`` and
``get_states`` ask a store that can batch (Redis: one pipelined round trip) for several experiments at once.

A store *loss* is not an outage: the store answers but has lost the experiment's data (eviction, FLUSHDB, a
restart without persistence; see ``routing_agent.stores.assignments.loss``). A store that can tell
(``read_state`` returning the recorded loss, or ``StoreLost`` from ``get_or_set``) puts the experiment in loss
mode: ``lost(experiment)`` returns the loss, the assigner sends every unit to control (reason
``store_lost``), the event ``store_lost`` is counted and one error is logged; the mode ends when a state read
finds the loss acknowledged (``routing-agent recover``).
"""

from __future__ import annotations

__all__ = ["GuardedStore", "OutagePolicy", "StoreAnswer", "Wanted"]

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

from routing_agent.assignment.counters import RoutingCounters
from routing_agent.assignment.outage import PROBE, SKIP, Breaker, OutagePolicy
from routing_agent.assignment.recent import RecentAssignments
from routing_agent.assignment.writeback import WriteBack
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.loss import StoreLoss, StoreLost
from routing_agent.stores.assignments.state import ExperimentState

logger = logging.getLogger("routing_agent.assignment")

T = TypeVar("T")
_MISSING = object()

Wanted = tuple[str, str, str, float | None]
"""A ``get_or_set`` request: (experiment, unit id, variant, sticky TTL in seconds or None)."""
StoreAnswer = tuple[str, bool] | StoreLoss | None
"""``(held, created)``, the ``StoreLoss`` when the store lost the experiment, None when unavailable."""
_StateRead = tuple[ExperimentState | None, StoreLoss | None]

_live: weakref.WeakSet[GuardedStore] = weakref.WeakSet()


@atexit.register
def _abandon_at_exit() -> None:  # pragma: no cover - exercised at interpreter exit
    for guard in list(_live):
        if guard.pending:
            guard.flush()
            guard.abandon("process exit")


class GuardedStore:
    """Wraps an ``AssignmentStore`` so that every failure becomes a counted fallback, never an exception."""

    def __init__(
        self,
        store: AssignmentStore,
        counters: RoutingCounters,
        *,
        state_refresh_s: float = 1.0,
        outage: OutagePolicy | None = None,
    ) -> None:
        self.store = store
        self.recent = RecentAssignments()
        self.counters = counters
        self.state_refresh_s = state_refresh_s
        self.outage = outage if outage is not None else OutagePolicy()
        self._clock = time.monotonic
        self._lock = threading.Lock()
        self._writeback = WriteBack(
            store, counters, self.outage.max_pending, on_failure=self._failed, on_lost=self._lose
        )
        self._breaker = Breaker(self.outage, counters, self._writeback.start)
        self._states: dict[str, tuple[ExperimentState | None, float]] = {}
        self._losses: dict[str, StoreLoss] = {}
        _live.add(self)
        self._read = getattr(store, "read_state", None)  # loss-aware stores (Redis)
        self._aread = getattr(store, "aread_state", None)
        self._many = getattr(store, "get_or_set_many", None)  # stores that batch (Redis)
        self._amany = getattr(store, "aget_or_set_many", None)
        self._read_many = getattr(store, "read_state_many", None)
        self._aread_many = getattr(store, "aread_state_many", None)

    # -- outage bookkeeping -------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """False while the store is considered down."""
        return not self._breaker.down

    def _failed(self, exc: BaseException, *, probe: bool = False) -> None:
        self._breaker.failed(exc, probe=probe)

    def _guard(self, call: Callable[[], T]) -> T | object:
        mode = self._breaker.enter()
        if mode is SKIP:
            return _MISSING
        try:
            result = call()
        except StoreLost as lost:  # the store answered: not an outage
            self._breaker.succeeded(mode, len(self._writeback))
            self._lose(lost.loss)
            return lost.loss
        except Exception as exc:
            self._failed(exc, probe=mode is PROBE)
            return _MISSING
        except BaseException:
            self._breaker.abandon(mode)
            raise
        self._breaker.succeeded(mode, len(self._writeback))
        return result

    async def _aguard(self, call: Callable[[], Awaitable[T]]) -> T | object:
        mode = self._breaker.enter()
        if mode is SKIP:
            return _MISSING
        try:
            result = await call()
        except StoreLost as lost:
            self._breaker.succeeded(mode, len(self._writeback))
            self._lose(lost.loss)
            return lost.loss
        except Exception as exc:
            self._failed(exc, probe=mode is PROBE)
            return _MISSING
        except BaseException:  # cancelled mid-probe: let the next call probe
            self._breaker.abandon(mode)
            raise
        self._breaker.succeeded(mode, len(self._writeback))
        return result

    # -- store loss ---------------------------------------------------------------------------------

    def lost(self, experiment: str) -> StoreLoss | None:
        """The loss the store recorded for the experiment while this process routes it, or None."""
        return self._losses.get(experiment)

    def _lose(self, loss: StoreLoss) -> None:
        with self._lock:
            known = loss.experiment in self._losses
            self._losses[loss.experiment] = loss
        if not known:
            self.recent.forget(loss.experiment)
            self.counters.event("store_lost")
            logger.error(
                "experiment '%s': the assignment store LOST DATA (%s; noticed by %s). Every unit goes to "
                "control until a person runs `routing-agent recover -e %s` after checking the store.",
                loss.experiment,
                loss.description,
                loss.detected_by or "?",
                loss.experiment,
            )

    def _found(self, experiment: str, loss: StoreLoss | None) -> None:
        if loss is not None:
            self._lose(loss)
        elif experiment in self._losses:
            with self._lock:
                self._losses.pop(experiment, None)
            self.counters.event("store_loss_cleared")
            logger.warning("experiment '%s': store loss acknowledged; routing resumes", experiment)

    # -- assignments ----------------------------------------------------------------------------------

    def _answered(self, wanted: Wanted, result: object) -> StoreAnswer:
        experiment, unit_id, variant, ttl_s = wanted
        if isinstance(result, StoreLoss):
            return result
        if result is _MISSING:
            self._writeback.queue(experiment, unit_id, variant, ttl_s)
            return None
        held = cast("tuple[str, bool]", result)
        self.recent.put(experiment, unit_id, held[0], ttl_s)
        return held

    def get_or_set(
        self, experiment: str, unit_id: str, variant: str, ttl_s: float | None
    ) -> tuple[str, bool] | StoreLoss | None:
        """The store's ``get_or_set``, or None (and the unit queued for write-back) when unavailable, or the
        ``StoreLoss`` when the store lost the experiment's data.

        A unit the store already answered for recently is answered from memory (no round trip).
        """
        known = self.recent.get(experiment, unit_id)
        if known is not None:
            return known, False
        result = self._guard(lambda: self.store.get_or_set(experiment, unit_id, variant, ttl_s=ttl_s))
        return self._answered((experiment, unit_id, variant, ttl_s), result)

    async def aget_or_set(
        self, experiment: str, unit_id: str, variant: str, ttl_s: float | None
    ) -> tuple[str, bool] | StoreLoss | None:
        """Async twin of ``get_or_set``."""
        known = self.recent.get(experiment, unit_id)
        if known is not None:
            return known, False
        result = await self._aguard(lambda: self.store.aget_or_set(experiment, unit_id, variant, ttl_s=ttl_s))
        return self._answered((experiment, unit_id, variant, ttl_s), result)

    def _unknown(self, wanted: Sequence[Wanted]) -> tuple[list[StoreAnswer], list[int]]:
        answers: list[StoreAnswer] = [None] * len(wanted)
        todo: list[int] = []
        for i, (experiment, unit_id, _variant, _ttl) in enumerate(wanted):
            known = self.recent.get(experiment, unit_id)
            if known is not None:
                answers[i] = (known, False)
            else:
                todo.append(i)
        return answers, todo

    def _batched(self, wanted: Sequence[Wanted], todo: list[int], result: object) -> list[StoreAnswer]:
        if result is _MISSING or isinstance(result, StoreLoss):
            return [self._answered(wanted[i], result) for i in todo]
        replies = cast("list[tuple[str, bool] | StoreLoss]", result)
        for reply in replies:
            if isinstance(reply, StoreLoss):
                self._lose(reply)
        return [self._answered(wanted[i], reply) for i, reply in zip(todo, replies, strict=True)]

    def get_or_set_many(self, wanted: Sequence[Wanted]) -> list[StoreAnswer]:
        """``get_or_set`` of several experiments' units, in one round trip when the store can batch."""
        answers, todo = self._unknown(wanted)
        many = self._many
        if many is None or len(todo) < 2:
            for i in todo:
                answers[i] = self.get_or_set(*wanted[i])
            return answers
        asked = [wanted[i] for i in todo]
        result = self._guard(lambda: many(asked))
        for i, answer in zip(todo, self._batched(wanted, todo, result), strict=True):
            answers[i] = answer
        return answers

    async def aget_or_set_many(self, wanted: Sequence[Wanted]) -> list[StoreAnswer]:
        """Async twin of ``get_or_set_many``."""
        answers, todo = self._unknown(wanted)
        amany = self._amany
        if amany is None or len(todo) < 2:
            for i in todo:
                answers[i] = await self.aget_or_set(*wanted[i])
            return answers
        asked = [wanted[i] for i in todo]
        result = await self._aguard(lambda: amany(asked))
        for i, answer in zip(todo, self._batched(wanted, todo, result), strict=True):
            answers[i] = answer
        return answers

    def get(self, experiment: str, unit_id: str) -> tuple[bool, str | None]:
        """``(answered, variant)``: answered is False when the store is unavailable."""
        known = self.recent.get(experiment, unit_id)
        if known is not None:
            return True, known
        result = self._guard(lambda: self.store.get(experiment, unit_id))
        if result is _MISSING:
            return False, None
        if result is not None:
            self.recent.put(experiment, unit_id, result)  # type: ignore[arg-type]
        return True, result  # type: ignore[return-value]

    async def aget(self, experiment: str, unit_id: str) -> tuple[bool, str | None]:
        """Async twin of ``get``."""
        known = self.recent.get(experiment, unit_id)
        if known is not None:
            return True, known
        result = await self._aguard(lambda: self.store.aget(experiment, unit_id))
        if result is _MISSING:
            return False, None
        if result is not None:
            self.recent.put(experiment, unit_id, result)  # type: ignore[arg-type]
        return True, result  # type: ignore[return-value]

    # -- experiment state -------------------------------------------------------------------------

    def _cached(self, experiment: str, now: float) -> tuple[bool, ExperimentState | None]:
        """(fresh, state): fresh when the cached state is younger than ``state_refresh_s``."""
        cached = self._states.get(experiment)
        if cached is not None and now - cached[1] < self.state_refresh_s:
            return True, cached[0]
        return False, None

    def _state_read(self, experiment: str, now: float, result: object) -> ExperimentState | None:
        if result is _MISSING or isinstance(result, StoreLoss):
            cached = self._states.get(experiment)
            if cached is not None:
                self._states[experiment] = (cached[0], now)  # retry after the refresh period
            return cached[0] if cached is not None else None
        state, loss = cast("_StateRead", result)
        self._found(experiment, loss)
        self._states[experiment] = (state, now)
        return state

    def get_state(self, experiment: str) -> ExperimentState | None:
        """The live state (cached for ``state_refresh_s``); the last known one while the store is down."""
        now = self._clock()
        fresh, state = self._cached(experiment, now)
        if fresh:
            return state
        read = self._read
        if read is not None:
            result = self._guard(lambda: read(experiment))
        else:
            result = self._guard(lambda: (self.store.get_state(experiment), None))
        return self._state_read(experiment, now, result)

    async def aget_state(self, experiment: str) -> ExperimentState | None:
        """Async twin of ``get_state``."""
        now = self._clock()
        fresh, state = self._cached(experiment, now)
        if fresh:
            return state
        aread = self._aread
        if aread is not None:
            result = await self._aguard(lambda: aread(experiment))
        else:
            result = await self._aguard(lambda: _paired(self.store.aget_state(experiment)))
        return self._state_read(experiment, now, result)

    def _stale(self, experiments: Sequence[str], now: float) -> list[str]:
        return [e for e in dict.fromkeys(experiments) if not self._cached(e, now)[0]]

    def _states_read(self, stale: list[str], now: float, result: object) -> dict[str, ExperimentState | None]:
        if result is _MISSING or isinstance(result, StoreLoss):
            return {e: self._state_read(e, now, result) for e in stale}
        reads = cast("list[_StateRead]", result)
        return {e: self._state_read(e, now, read) for e, read in zip(stale, reads, strict=True)}

    def get_states(self, experiments: Sequence[str]) -> dict[str, ExperimentState | None]:
        """``get_state`` of several experiments; the stale ones read in one round trip when the store can."""
        now = self._clock()
        stale, read_many = self._stale(experiments, now), self._read_many
        found: dict[str, ExperimentState | None] = {}
        if read_many is not None and len(stale) > 1:
            found = self._states_read(stale, now, self._guard(lambda: read_many(stale)))
        return {e: found[e] if e in found else self.get_state(e) for e in experiments}

    async def aget_states(self, experiments: Sequence[str]) -> dict[str, ExperimentState | None]:
        """Async twin of ``get_states``."""
        now = self._clock()
        stale, aread_many = self._stale(experiments, now), self._aread_many
        found: dict[str, ExperimentState | None] = {}
        if aread_many is not None and len(stale) > 1:
            found = self._states_read(stale, now, await self._aguard(lambda: aread_many(stale)))
        return {e: found[e] if e in found else await self.aget_state(e) for e in experiments}

    def invalidate_state(self, experiment: str | None = None) -> None:
        """Forget cached state so the next read goes to the store."""
        if experiment is None:
            self._states.clear()
        else:
            self._states.pop(experiment, None)

    # -- write-back ---------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Units assigned during an outage and not yet written back."""
        return len(self._writeback)

    def flush(self) -> int:
        """Write queued units back now (sync); returns how many were written. Stops at the first failure."""
        return self._writeback.flush()

    def drain(self, within_s: float | None = None) -> int:
        """Write queued units back, retrying failures for up to ``within_s`` (default
        ``OutagePolicy.close_flush_s``); returns how many were written."""
        return self._writeback.drain(self.outage.close_flush_s if within_s is None else within_s)

    def abandon(self, cause: str) -> int:
        """Give up on the units still queued (shutdown): counted as ``writeback_dropped`` and logged."""
        return self._writeback.abandon(cause)

    def wait_flushed(self, timeout_s: float = 10.0) -> bool:
        """Block until the background write-back finished (tests and shutdown)."""
        return self._writeback.wait(timeout_s)


async def _paired(state: Awaitable[ExperimentState | None]) -> tuple[ExperimentState | None, None]:
    return await state, None
