"""``BufferedObservationWriter``: the cheap, non-blocking write path from the graph to a store.

``add_many`` appends to a bounded in-memory buffer and returns at once; a daemon thread writes batches to the
store every ``flush_interval_s`` (or as soon as ``batch_size`` are waiting). A failing store is retried
``max_retries`` times with doubling back-off (by default 6 times over ~6 s: a Redis restart loses nothing,
and a batch the store applied but did not acknowledge is not counted twice, since observations carry ids);
a batch that still fails, anything arriving while the buffer is full, an observation no store can keep
(``observation_problem``: a NaN value, a lone surrogate in an id), and whatever is still buffered when
``close()`` gives up or the interpreter exits is *dropped and counted* (``stats()["dropped"]``, the OTel
counter ``routing_agent.observations.dropped``, one warning per cause; invalid ones also in
``stats()["invalid"]`` and ``routing_agent.stores.observations.observation.rejected_counts``). So every
accepted observation is written, dropped-and-counted, or still buffered: never silently lost. Nothing raises
into the caller.
``flush()`` waits until everything buffered was written; ``close()`` flushes and stops the thread.

Crash loss: without a spool, a SIGKILL loses everything buffered (up to ``max_buffer``, more while the store
is slow). With ``spool_dir`` (or ``ROUTING_AGENT_SPOOL_DIR``) the buffer is committed to a local SQLite WAL
file every ``flush_interval_s`` and a second thread forwards that file to the store, so a SIGKILL loses at
most the last ``flush_interval_s`` of observations and the next writer on the folder replays the rest (see
``routing_agent.stores.observations.spool``). Observations still spooled at ``close()`` (store down) stay on
disk for that replay, logged with their count.
"""

from __future__ import annotations

__all__ = ["BufferedObservationWriter"]

import atexit
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any

from opentelemetry.metrics import MeterProvider

from routing_agent._meters import ActiveCounter
from routing_agent.stores.observations.base import ObservationStore
from routing_agent.stores.observations.observation import Observation, count_rejected, observation_problem
from routing_agent.stores.observations.spool import SPOOL_DIR_ENV, Spool

logger = logging.getLogger("routing_agent.observations")

_live: weakref.WeakSet[BufferedObservationWriter] = weakref.WeakSet()
_DROPPED = ActiveCounter(
    "routing_agent.observations.dropped",
    unit="{observation}",
    description="Observations dropped: the store failed, the buffer was full, or they were invalid.",
)


@atexit.register
def _flush_all_at_exit() -> None:  # pragma: no cover - exercised at interpreter exit
    for writer in list(_live):
        writer.flush(2.0)
        writer._abandon("exit")


def _experiment_of(group: Sequence[Observation]) -> str:
    try:
        return str(group[0].experiment)
    except Exception:  # a lazy group that cannot build its first observation
        return "?"


class BufferedObservationWriter:
    """Bounded buffer + background flush in front of an ``ObservationStore``."""

    def __init__(
        self,
        store: ObservationStore,
        *,
        max_buffer: int = 100_000,
        batch_size: int = 500,
        flush_interval_s: float = 0.25,
        max_retries: int = 6,
        retry_backoff_s: float = 0.1,
        meter_provider: MeterProvider | None = None,
        close_store: bool = False,
        spool_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.store = store
        self.max_buffer = max_buffer
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_retries = max_retries
        self.retry_backoff_s = retry_backoff_s
        self.close_store = close_store
        self._buffer: deque[Sequence[Observation]] = deque()  # whole groups: expanded on the writer thread
        self._buffered = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._warned: set[str] = set()
        self.written = 0
        self.dropped = 0
        self.invalid = 0
        self.retries = 0
        self._dropped_counter = _DROPPED.counter(meter_provider) if meter_provider is not None else _DROPPED
        folder = spool_dir if spool_dir is not None else (os.environ.get(SPOOL_DIR_ENV) or None)
        self.spool_dir = folder
        self._spools: list[Spool] = []  # adopted orphans first, then our own (last)
        self._spooled = 0
        self._forward_wake = threading.Event()
        self._forwarder: threading.Thread | None = None
        self._stop_forwarding = threading.Event()
        self.replayed = 0
        if folder is not None:
            self._open_spool(folder)
        _live.add(self)

    def _open_spool(self, folder: str | os.PathLike[str]) -> None:
        try:
            orphans = Spool.orphans(folder)
            own = Spool.create(folder)
        except (OSError, sqlite3.Error) as exc:
            logger.warning("observation spool disabled: cannot use '%s': %s", folder, exc)
            return
        self._spools = [*orphans, own]
        self._spooled = sum(s.count() for s in self._spools)
        waiting = self._spooled
        if waiting:
            logger.warning("replaying %d observation(s) spooled by a writer that died", waiting)
            self.replayed = waiting
            self._start()

    # -- write side (the graph's threads) -----------------------------------------------------------

    def add(self, observation: Observation) -> None:
        """Buffer one observation (never blocks, never raises)."""
        self.add_many((observation,))

    def add_many(self, observations: Sequence[Observation]) -> None:
        """Buffer observations (never blocks, never raises).

        The sequence is kept as one group and iterated on the writer thread, so a lazy sequence (see
        ``routing_agent.telemetry.call_observations``) builds its ``Observation`` objects off the caller's
        thread; one with a ``checked() -> (storable observations, first problem or None)`` method validates
        itself there. Do not mutate it after handing it over."""
        overflow = 0
        full = False
        with self._lock:
            if self._closed:
                overflow = len(observations)
            else:
                room = self.max_buffer - self._buffered - self._in_flight
                size = len(observations)
                if room < size:
                    overflow = size - max(room, 0)
                    observations = list(observations)[: max(room, 0)]
                    size = len(observations)
                if size:
                    self._buffer.append(observations)
                    self._buffered += size
                full = self._buffered >= self.batch_size
            if self._thread is None and not self._closed:
                self._start()
        if overflow:
            self._drop(overflow, "buffer_full" if not self._closed else "closed")
        elif full and not self._wake.is_set():  # set once: the thread may take a while to get the GIL
            self._wake.set()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="routing-agent-observations", daemon=True)
            self._thread.start()
        if self._spools and self._forwarder is None:
            self._forwarder = threading.Thread(
                target=self._forward_run, name="routing-agent-spool", daemon=True
            )
            self._forwarder.start()

    # -- background thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            self._drain()
            with self._lock:
                if self._closed and not self._buffered:
                    self._idle.notify_all()
                    return

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._buffer:
                    self._idle.notify_all()
                    return
                groups: list[Sequence[Observation]] = []
                taken = 0
                while self._buffer and taken < self.batch_size:
                    group = self._buffer.popleft()
                    groups.append(group)
                    taken += len(group)
                self._buffered -= taken
                self._in_flight = taken
            batch = self._valid(groups)
            if batch and not self._spool(batch):
                self._write(batch)
            with self._lock:
                self._in_flight = 0

    def _spool(self, batch: list[Observation]) -> bool:
        """Commit ``batch`` to our spool file; False (write directly) without a usable spool."""
        if not self._spools:
            return False
        try:
            self._spools[-1].append(batch)
        except Exception as exc:
            self._warn_once("spool_failed", f"the observation spool failed ({exc}); writing directly")
            return False
        with self._lock:
            self._spooled += len(batch)
        self._forward_wake.set()
        return True

    def _forward_run(self) -> None:
        """Second thread: send spooled observations to the store, oldest first; keep them on failure."""
        delay = self.retry_backoff_s
        while not self._stop_forwarding.is_set():
            sent = self._forward_once()
            if sent is None:  # the store failed: the rows stay spooled, try again later
                self._stop_forwarding.wait(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = self.retry_backoff_s
            if sent:
                continue
            with self._lock:
                if self._closed and not self._buffered and not self._in_flight:
                    self._idle.notify_all()
                    return
                self._idle.notify_all()
            self._forward_wake.wait(self.flush_interval_s)
            self._forward_wake.clear()

    def _forward_once(self) -> int | None:
        """Forward one batch: the count sent, 0 when every spool is empty, None when the store failed."""
        for spool in list(self._spools):
            try:
                last, batch = spool.peek(self.batch_size)
            except Exception as exc:
                self._warn_once("spool_failed", f"cannot read the observation spool: {exc}")
                return None
            if not batch:
                if spool is not self._spools[-1]:  # an adopted orphan, fully replayed
                    self._spools.remove(spool)
                    spool.close(delete=True)
                continue
            try:
                self.store.add(batch)
            except Exception as exc:
                self.retries += 1
                self._warn_once(
                    f"spool_store:{type(exc).__name__}",
                    f"the store refused spooled observations ({exc}); they stay spooled and are retried",
                )
                return None
            spool.remove_through(last)
            with self._lock:
                self.written += len(batch)
                self._spooled -= len(batch)
            return len(batch)
        return 0

    def _warn_once(self, cause: str, message: str) -> None:
        if cause not in self._warned:
            self._warned.add(cause)
            logger.warning("routing-agent: %s", message)

    def _valid(self, groups: list[Sequence[Observation]]) -> list[Observation]:
        # An observation no store can keep (NaN value, lone surrogate in an id) is dropped and counted on
        # its own, so it cannot fail the batch of good observations it travels with. A group that can
        # check itself (``checked()``: the observations of one call, which share most fields) does.
        good: list[Observation] = []
        first: str | None = None
        bad = 0
        for group in groups:
            checked = getattr(group, "checked", None)
            if checked is not None:
                kept, problem = checked()
                good.extend(kept)
                refused = len(group) - len(kept)
                if refused and problem is not None:
                    count_rejected(kept[0].experiment if kept else _experiment_of(group), problem, refused)
                bad += refused
                if first is None:
                    first = problem
                continue
            for obs in group:
                problem = observation_problem(obs)
                if problem is None:
                    good.append(obs)
                else:
                    count_rejected(obs.experiment, problem)
                    bad += 1
                    if first is None:
                        first = problem
        if bad:
            self.invalid += bad
            self._drop(bad, "invalid", ValueError(first))
        return good

    def _write(self, batch: list[Observation]) -> None:
        delay = self.retry_backoff_s
        for attempt in range(self.max_retries + 1):
            try:
                self.store.add(batch)
                self.written += len(batch)
                return
            except Exception as exc:
                if attempt == self.max_retries:
                    self._drop(len(batch), f"store_failed:{type(exc).__name__}", exc)
                    return
                self.retries += 1
                time.sleep(delay)
                delay *= 2

    def _drop(self, n: int, cause: str, exc: BaseException | None = None) -> None:
        try:
            self.dropped += n
            self._dropped_counter.add(n, {"routing_agent.cause": cause.split(":", maxsplit=1)[0]})
            if cause not in self._warned:
                self._warned.add(cause)
                logger.warning(
                    "routing-agent dropped %d observation(s) (%s%s); further drops are counted in "
                    "routing_agent.observations.dropped",
                    n,
                    cause,
                    f": {exc}" if exc is not None else "",
                )
        except Exception:  # pragma: no cover - never raise into the caller
            pass

    # -- control --------------------------------------------------------------------------------------

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Write everything buffered now; True when the buffer emptied within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            if self._thread is None:
                return not self._buffered
        self._wake.set()
        with self._idle:
            while self._buffered or self._in_flight or self._spooled:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.05))
                self._wake.set()
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        """Flush, stop the thread (and close the store when this writer owns it)."""
        self.flush(timeout_s)
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        self._forward_wake.set()
        if thread is not None:
            thread.join(timeout_s)
        if self._forwarder is not None:
            self._stop_forwarding.set()  # the store is still refusing: leave the rest on disk
            self._forwarder.join(timeout_s)
        self._abandon("closed")
        self._close_spools()
        if self.close_store:
            self.store.close()
        _live.discard(self)

    def _close_spools(self) -> None:
        forwarder = self._forwarder
        if forwarder is not None and forwarder.is_alive():
            return  # stuck inside a store call: the daemon thread dies with the process, the file stays
        with self._lock:
            left = self._spooled
        for spool in self._spools:
            spool.close(delete=True)
        self._spools = []
        if left:
            logger.warning(
                "routing-agent: %d observation(s) stay in the spool folder %s; the next writer on it replays "
                "them",
                left,
                self.spool_dir,
            )

    def _abandon(self, cause: str) -> None:
        """Count what is still buffered (not in flight) as dropped: it will not be written any more."""
        with self._lock:
            left = self._buffered
            self._buffer.clear()
            self._buffered = 0
        if left:
            self._drop(left, cause)

    def stats(self) -> dict[str, Any]:
        """``written``, ``dropped`` (``invalid`` of them refused by ``observation_problem``), ``retries`` and
        ``buffered`` (in memory) counts; with a spool also ``spooled`` (on disk, not yet in the store) and
        ``replayed`` (found spooled by a writer that died)."""
        with self._lock:
            out: dict[str, Any] = {
                "written": self.written,
                "dropped": self.dropped,
                "invalid": self.invalid,
                "retries": self.retries,
                "buffered": self._buffered + self._in_flight,
            }
            if self.spool_dir is not None:
                out.update(spooled=self._spooled, replayed=self.replayed)
        return out
