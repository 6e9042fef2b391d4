"""``BufferedObservationWriter``: the cheap, non-blocking write path from the graph to a store.

``add_many`` appends to a bounded in-memory buffer and returns at once; a daemon thread writes batches to the
store every ``flush_interval_s`` (or as soon as ``batch_size`` are waiting). A failing store is retried
``max_retries`` times with doubling back-off (by default 6 times over ~6 s: a Redis restart loses nothing,
and a batch the store applied but did not acknowledge is not counted twice, since observations carry ids);
a batch that still fails, anything arriving while the buffer is full, an observation no store can keep
(``observation_problem``: a NaN value, a lone surrogate in an id), and whatever is still buffered when
``close()`` gives up or the interpreter exits is *dropped and counted* (``stats()["dropped"]``, the OTel
counter ``routing_agent.observations.dropped``, one warning per cause; invalid ones also in
``stats()["invalid"]`` and ``routing_agent.stores.observations.observation.rejected_counts``; see ``drops``).
So every accepted observation is written, dropped-and-counted, spooled or still buffered: never silently
lost. Nothing raises into the caller.
``flush()`` waits until everything buffered was written; ``close()`` flushes and stops the threads.

Crash loss — the spool, **on by default** for a store that outlives the process (SQLite, Redis): the buffer
is committed to a local SQLite WAL file every ``flush_interval_s`` (0.25 s) and a second thread forwards
that file to the store (``forwarder``), so a SIGKILL loses at most the last ``flush_interval_s`` of
observations and the next writer on the folder replays the rest. The folder is ``spool_dir`` when given,
else the default of ``spool.spool_folders`` (``$ROUTING_AGENT_SPOOL_DIR``, ``$XDG_STATE_HOME`` or
``~/.local/state``, then the temp folder, one sub-folder per store); ``spool_dir=False`` or
``ROUTING_AGENT_SPOOL_DIR=off`` turns it off, and then a SIGKILL loses everything buffered (up to
``max_buffer``, more while the store is slow). Observations still spooled at ``close()`` (store down) stay on
disk for that replay, logged with their count.
"""

from __future__ import annotations

__all__ = ["BufferedObservationWriter"]

import atexit
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from opentelemetry.metrics import MeterProvider

from routing_agent.stores.observations.base import ObservationStore
from routing_agent.stores.observations.drops import Drops, valid_observations
from routing_agent.stores.observations.forwarder import Pacing, SpoolForwarder
from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.spool import spool_folders

_live: weakref.WeakSet[BufferedObservationWriter] = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:  # pragma: no cover - exercised at interpreter exit
    for writer in list(_live):
        writer.flush(2.0)
        writer._abandon("exit")
        if writer._forwarder is not None:  # empty spool files go; what the store refused stays, logged
            writer._forwarder.close(0.5)


class BufferedObservationWriter:
    """Bounded buffer + background flush (through the local spool by default) in front of a store."""

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
        spool_dir: str | os.PathLike[str] | Literal[False] | None = None,
    ) -> None:
        """``spool_dir``: the spool folder; None (default): the per-store default folder (none for an
        in-memory store); False: no spool."""
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
        self._written = 0
        self._retries = 0
        self.invalid = 0
        self._drops = Drops(meter_provider)
        self._forwarder = self._open_spool(spool_dir)
        _live.add(self)

    def _open_spool(self, spool_dir: str | os.PathLike[str] | Literal[False] | None) -> SpoolForwarder | None:
        if spool_dir is False:
            return None
        folders = [Path(spool_dir)] if spool_dir is not None else spool_folders(self.store)  # [] when off
        pacing = Pacing(self.batch_size, self.flush_interval_s, self.retry_backoff_s)
        for folder in folders:  # the default: the first writable one
            forwarder = SpoolForwarder.open(
                self.store, folder, pacing, drops=self._drops, on_progress=self._notify_idle
            )
            if forwarder is not None:
                return forwarder
        return None

    @property
    def spool_dir(self) -> Path | None:
        """The spool folder in use (None: no spool)."""
        return self._forwarder.folder if self._forwarder is not None else None

    @property
    def written(self) -> int:
        """Observations the store acknowledged (directly or from the spool)."""
        return self._written + (self._forwarder.written if self._forwarder is not None else 0)

    @property
    def retries(self) -> int:
        """Failed store calls that were retried."""
        return self._retries + (self._forwarder.retries if self._forwarder is not None else 0)

    @property
    def dropped(self) -> int:
        """Observations dropped and counted."""
        return self._drops.count

    @property
    def replayed(self) -> int:
        """Observations found spooled by writers that died (replayed by this one)."""
        return self._forwarder.replayed if self._forwarder is not None else 0

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
                self._thread = threading.Thread(
                    target=self._run, name="routing-agent-observations", daemon=True
                )
                self._thread.start()
        if overflow:
            self._drops.drop(overflow, "buffer_full" if not self._closed else "closed")
        elif full and not self._wake.is_set():  # set once: the thread may take a while to get the GIL
            self._wake.set()

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
            batch, bad, problem = valid_observations(groups)
            if bad:
                self.invalid += bad
                self._drops.drop(bad, "invalid", ValueError(problem))
            if batch and (self._forwarder is None or not self._forwarder.append(batch)):
                self._write(batch)
            with self._lock:
                self._in_flight = 0

    def _write(self, batch: list[Observation]) -> None:
        delay = self.retry_backoff_s
        for attempt in range(self.max_retries + 1):
            try:
                self.store.add(batch)
                self._written += len(batch)
                return
            except Exception as exc:
                if attempt == self.max_retries:
                    self._drops.drop(len(batch), f"store_failed:{type(exc).__name__}", exc)
                    return
                self._retries += 1
                time.sleep(delay)
                delay *= 2

    def _notify_idle(self) -> None:
        with self._lock:
            self._idle.notify_all()

    # -- control --------------------------------------------------------------------------------------

    def _pending(self) -> int:
        spooled = self._forwarder.pending if self._forwarder is not None else 0
        return self._buffered + self._in_flight + spooled

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Write everything buffered (and spooled) now; True when all of it reached the store in time."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            if self._thread is None and self._forwarder is None:
                return not self._buffered
        self._wake.set()
        if self._forwarder is not None:
            self._forwarder.wake()
        with self._idle:
            while self._pending():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.05))
                self._wake.set()
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        """Flush, stop the threads (and close the store when this writer owns it)."""
        self.flush(timeout_s)
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout_s)
        if self._forwarder is not None:
            self._forwarder.close(timeout_s)  # what the store still refuses stays on disk
        self._abandon("closed")
        if self.close_store:
            self.store.close()
        _live.discard(self)

    def _abandon(self, cause: str) -> None:
        """Count what is still buffered (not in flight) as dropped: it will not be written any more."""
        with self._lock:
            left = self._buffered
            self._buffer.clear()
            self._buffered = 0
        if left:
            self._drops.drop(left, cause)

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
            if self._forwarder is not None:
                out.update(spooled=self._forwarder.pending, replayed=self._forwarder.replayed)
        return out
