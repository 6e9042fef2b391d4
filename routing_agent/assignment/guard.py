"""A store wrapper that never raises: outage detection, back-off, write-back and a state cache.

When a store call fails (down, slow past its client timeout, read-only, any exception), the guard:

* returns ``None`` so the assigner falls back to the deterministic hash (reason ``store_unavailable``);
* logs once per outage and counts the outage and every fallback;
* stops calling the store for a back-off period (0.5 s doubling to 5 s) so a dead store does not add its
  timeout to every request, then lets one call probe it (only one: calls arriving while the probe is in
  flight fall back at once, so a store that is slow rather than down costs one timeout per back-off period,
  not one per concurrent request);
* remembers the units assigned during the outage (bounded; overflow is counted) and writes them back with
  ``get_or_set`` from a background thread once the store answers again. The hash is deterministic, so the
  written-back variant is the one the unit already had: nothing flips.

Units the store has answered for are remembered (``RecentAssignments``) and answered from memory: a returning
unit costs no round trip and keeps its variant through an outage. Experiment state is cached for
``state_refresh_s``; when the store cannot be read the last known state stays.

A store *loss* is not an outage: the store answers but has lost the experiment's data (eviction, FLUSHDB, a
restart without persistence; see ``routing_agent.stores.assignments.loss``). A store that can tell
(``read_state`` returning the recorded loss, or ``StoreLost`` from ``get_or_set``) puts the experiment in loss
mode: ``lost(experiment)`` returns the loss, the assigner sends every unit to control (reason
``store_lost``), the event ``store_lost`` is counted and one error is logged; the mode ends when a state read
finds the loss acknowledged (``routing-agent recover``).
"""

from __future__ import annotations

__all__ = ["GuardedStore", "OutagePolicy"]

import atexit
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from routing_agent.assignment.counters import RoutingCounters
from routing_agent.assignment.recent import RecentAssignments
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.loss import StoreLoss, StoreLost
from routing_agent.stores.assignments.state import ExperimentState

logger = logging.getLogger("routing_agent.assignment")

T = TypeVar("T")
_MISSING = object()
_CALL, _PROBE, _SKIP = "call", "probe", "skip"


@dataclass(frozen=True, slots=True)
class OutagePolicy:
    """How a routing node rides out a store outage (``RoutingNode(outage=…)``); defaults suit production."""

    backoff_s: float = 0.5  # no store call for this long after a failure; doubles after each failed probe
    max_backoff_s: float = 5.0  # ... up to this
    max_pending: int = 100_000  # units remembered for write-back during an outage; the overflow is counted

    def __post_init__(self) -> None:
        if not 0 < self.backoff_s <= self.max_backoff_s or self.max_pending < 0:
            raise ValueError(
                f"OutagePolicy needs 0 < backoff_s <= max_backoff_s and max_pending >= 0: {self}"
            )


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
        self._down = False
        self._probing = False
        self._backoff = self.outage.backoff_s
        self._retry_at = 0.0
        self._pending: OrderedDict[tuple[str, str], tuple[str, float | None]] = OrderedDict()
        self._flusher: threading.Thread | None = None
        self._states: dict[str, tuple[ExperimentState | None, float]] = {}
        self._losses: dict[str, StoreLoss] = {}
        _live.add(self)
        self._read = getattr(store, "read_state", None)  # loss-aware stores (Redis)
        self._aread = getattr(store, "aread_state", None)

    # -- outage bookkeeping -------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """False while the store is considered down."""
        return not self._down

    def _enter(self) -> str:
        """``"call"`` (store up), ``"probe"`` (down, back-off over: this call alone probes) or ``"skip"``."""
        if not self._down:
            return _CALL
        with self._lock:  # half-open: one probe at a time
            if self._probing or self._clock() < self._retry_at:
                return _SKIP
            self._probing = True
            return _PROBE

    def _failed(self, exc: BaseException, *, probe: bool = False) -> None:
        with self._lock:
            if probe:
                self._probing = False
            elif self._down:
                return  # a call that started before the outage was noticed: the back-off stands
            now = self._clock()
            if not self._down:
                self._down = True
                self._backoff = self.outage.backoff_s
                self.counters.event("outage")
                logger.warning(
                    "assignment store unavailable (%s: %s); routing by deterministic hash until it returns",
                    type(exc).__name__,
                    exc,
                )
            else:
                self._backoff = min(self._backoff * 2, self.outage.max_backoff_s)
            self._retry_at = now + self._backoff

    def _succeeded(self, mode: str) -> None:
        if not self._down or mode is not _PROBE:
            return  # up already, or a call that started before the outage: says nothing about now
        with self._lock:
            self._probing = False
            if not self._down:
                return
            self._down = False
            self.counters.event("recovered")
            logger.warning("assignment store is back; writing back %d units", len(self._pending))
        self._start_flush()

    def _guard(self, call: Callable[[], T]) -> T | object:
        mode = self._enter()
        if mode is _SKIP:
            return _MISSING
        try:
            result = call()
        except StoreLost as lost:  # the store answered: not an outage
            self._succeeded(mode)
            self._lose(lost.loss)
            return lost.loss
        except Exception as exc:
            self._failed(exc, probe=mode is _PROBE)
            return _MISSING
        except BaseException:
            self._abandon(mode)
            raise
        self._succeeded(mode)
        return result

    async def _aguard(self, call: Callable[[], Awaitable[T]]) -> T | object:
        mode = self._enter()
        if mode is _SKIP:
            return _MISSING
        try:
            result = await call()
        except StoreLost as lost:
            self._succeeded(mode)
            self._lose(lost.loss)
            return lost.loss
        except Exception as exc:
            self._failed(exc, probe=mode is _PROBE)
            return _MISSING
        except BaseException:  # cancelled mid-probe: let the next call probe
            self._abandon(mode)
            raise
        self._succeeded(mode)
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

    def _abandon(self, mode: str) -> None:
        if mode is _PROBE:
            with self._lock:
                self._probing = False

    # -- assignments ----------------------------------------------------------------------------------

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
        if isinstance(result, StoreLoss):
            return result
        if result is _MISSING:
            self._queue(experiment, unit_id, variant, ttl_s)
            return None
        self.recent.put(experiment, unit_id, result[0], ttl_s)  # type: ignore[index]
        return result  # type: ignore[return-value]

    async def aget_or_set(
        self, experiment: str, unit_id: str, variant: str, ttl_s: float | None
    ) -> tuple[str, bool] | StoreLoss | None:
        """Async twin of ``get_or_set``."""
        known = self.recent.get(experiment, unit_id)
        if known is not None:
            return known, False
        result = await self._aguard(lambda: self.store.aget_or_set(experiment, unit_id, variant, ttl_s=ttl_s))
        if isinstance(result, StoreLoss):
            return result
        if result is _MISSING:
            self._queue(experiment, unit_id, variant, ttl_s)
            return None
        self.recent.put(experiment, unit_id, result[0], ttl_s)  # type: ignore[index]
        return result  # type: ignore[return-value]

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

    def get_state(self, experiment: str) -> ExperimentState | None:
        """The live state (cached for ``state_refresh_s``); the last known one while the store is down."""
        cached = self._states.get(experiment)
        now = self._clock()
        if cached is not None and now - cached[1] < self.state_refresh_s:
            return cached[0]
        read = self._read
        if read is not None:
            result = self._guard(lambda: read(experiment))
        else:
            result = self._guard(lambda: (self.store.get_state(experiment), None))
        if result is _MISSING or isinstance(result, StoreLoss):
            if cached is not None:
                self._states[experiment] = (cached[0], now)  # retry after the refresh period
            return cached[0] if cached is not None else None
        state, loss = cast("tuple[ExperimentState | None, StoreLoss | None]", result)
        self._found(experiment, loss)
        self._states[experiment] = (state, now)
        return state

    async def aget_state(self, experiment: str) -> ExperimentState | None:
        """Async twin of ``get_state``."""
        cached = self._states.get(experiment)
        now = self._clock()
        if cached is not None and now - cached[1] < self.state_refresh_s:
            return cached[0]
        aread = self._aread
        if aread is not None:
            result = await self._aguard(lambda: aread(experiment))
        else:
            result = await self._aguard(lambda: _paired(self.store.aget_state(experiment)))
        if result is _MISSING or isinstance(result, StoreLoss):
            if cached is not None:
                self._states[experiment] = (cached[0], now)
            return cached[0] if cached is not None else None
        state, loss = cast("tuple[ExperimentState | None, StoreLoss | None]", result)
        self._found(experiment, loss)
        self._states[experiment] = (state, now)
        return state

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
        return len(self._pending)

    def _queue(self, experiment: str, unit_id: str, variant: str, ttl_s: float | None) -> None:
        with self._lock:
            key = (experiment, unit_id)
            if key in self._pending:
                return
            if len(self._pending) >= self.outage.max_pending:
                self.counters.event("writeback_dropped")
                return
            self._pending[key] = (variant, ttl_s)

    def _start_flush(self) -> None:
        with self._lock:
            if not self._pending or (self._flusher is not None and self._flusher.is_alive()):
                return
            self._flusher = threading.Thread(target=self.flush, name="routing-agent-writeback", daemon=True)
            self._flusher.start()

    def flush(self) -> int:
        """Write queued units back now (sync); returns how many were written. Stops at the first failure."""
        written = 0
        while True:
            with self._lock:
                if not self._pending:
                    break
                (experiment, unit_id), (variant, ttl_s) = next(iter(self._pending.items()))
            try:
                held, _created = self.store.get_or_set(experiment, unit_id, variant, ttl_s=ttl_s)
            except StoreLost as lost:  # nothing to write back into a store that lost the experiment
                self._lose(lost.loss)
                with self._lock:
                    for key in [k for k in self._pending if k[0] == experiment]:
                        del self._pending[key]
                self.counters.event("writeback_lost")
                continue
            except Exception as exc:
                self._failed(exc)
                break
            with self._lock:
                self._pending.pop((experiment, unit_id), None)
            written += 1
            self.counters.event("writeback")
            if held != variant:
                # Another writer stored a different variant during the outage (e.g. weights changed).
                self.counters.event("writeback_conflict")
        return written

    def abandon(self, cause: str) -> int:
        """Give up on the units still queued (shutdown): counted as ``writeback_dropped`` and logged."""
        with self._lock:
            left = len(self._pending)
            self._pending.clear()
        if left:
            self.counters.event("writeback_dropped", left)
            logger.warning(
                "%d unit(s) assigned during a store outage were never written back (%s): they may be "
                "re-assigned by the hash when the store answers again; counted as writeback_dropped",
                left,
                cause,
            )
        return left

    def wait_flushed(self, timeout_s: float = 10.0) -> bool:
        """Block until the background write-back finished (tests and shutdown)."""
        flusher = self._flusher
        if flusher is not None:
            flusher.join(timeout_s)
        return not self._pending


async def _paired(state: Awaitable[ExperimentState | None]) -> tuple[ExperimentState | None, None]:
    return await state, None
