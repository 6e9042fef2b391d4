"""Units assigned during a store outage, written back once the store answers again.

The hash is deterministic, so the written-back variant is the one the unit already had: nothing flips. The
queue is bounded (``OutagePolicy.max_pending``; overflow counted as ``writeback_dropped``); units still queued
at shutdown are logged and counted (``abandon``), never dropped silently.
"""

from __future__ import annotations

__all__ = ["WriteBack"]

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from routing_agent.assignment.counters import RoutingCounters
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.loss import StoreLoss, StoreLost

logger = logging.getLogger("routing_agent.assignment")


class WriteBack:
    """A bounded queue of ``(experiment, unit) → (variant, ttl)`` and the thread that drains it."""

    def __init__(
        self,
        store: AssignmentStore,
        counters: RoutingCounters,
        max_pending: int,
        *,
        on_failure: Callable[[BaseException], None],
        on_lost: Callable[[StoreLoss], None],
    ) -> None:
        self.store = store
        self.counters = counters
        self.max_pending = max_pending
        self._on_failure = on_failure
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._pending: OrderedDict[tuple[str, str], tuple[str, float | None]] = OrderedDict()
        self._flusher: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def queue(self, experiment: str, unit_id: str, variant: str, ttl_s: float | None) -> None:
        """Remember a unit for write-back (once; overflow is counted as ``writeback_dropped``)."""
        with self._lock:
            key = (experiment, unit_id)
            if key in self._pending:
                return
            if len(self._pending) >= self.max_pending:
                self.counters.event("writeback_dropped")
                return
            self._pending[key] = (variant, ttl_s)

    def start(self) -> None:
        """Drain the queue in a background thread (one at a time)."""
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
                self._on_lost(lost.loss)
                with self._lock:
                    for key in [k for k in self._pending if k[0] == experiment]:
                        del self._pending[key]
                self.counters.event("writeback_lost")
                continue
            except Exception as exc:
                self._on_failure(exc)
                break
            with self._lock:
                self._pending.pop((experiment, unit_id), None)
            written += 1
            self.counters.event("writeback")
            if held != variant:
                # Another writer stored a different variant during the outage (e.g. weights changed).
                self.counters.event("writeback_conflict")
        return written

    def drain(self, within_s: float, retry_every_s: float = 0.05) -> int:
        """Flush, retrying after failures (a timeout under load, a store restarting) until the queue is empty
        or ``within_s`` has passed; returns how many were written. What is left is for ``abandon``."""
        deadline = time.monotonic() + within_s
        written = 0
        while True:
            self.wait(max(0.0, deadline - time.monotonic()))  # a background flush in progress goes first
            written += self.flush()
            if not self._pending or time.monotonic() >= deadline:
                return written
            time.sleep(min(retry_every_s, max(0.0, deadline - time.monotonic())))

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

    def wait(self, timeout_s: float = 10.0) -> bool:
        """Block until the background write-back finished; True when nothing is left."""
        flusher = self._flusher
        if flusher is not None:
            flusher.join(timeout_s)
        return not self._pending
