"""The spool side of a buffered writer: commit batches to a local spool file, forward them to the store.

``SpoolForwarder.open(store, folder, …)`` holds this writer's own spool file and adopts the files of dead
writers in the same folder (replaying them first). ``append(batch)`` commits a batch to disk (the writer
thread, every ``flush_interval_s``); a second thread sends the spool to the store oldest first and deletes
what the store acknowledged, keeping everything on disk while the store fails. See ``spool`` for the files
and the loss bound.
"""

from __future__ import annotations

__all__ = ["Pacing", "SpoolForwarder"]

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from routing_agent.stores.observations.base import ObservationStore
from routing_agent.stores.observations.drops import Drops
from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.spool import Spool

logger = logging.getLogger("routing_agent.observations")


@dataclass(frozen=True)
class Pacing:
    """How the forwarder paces itself (the writer's own settings)."""

    batch_size: int
    flush_interval_s: float
    retry_backoff_s: float
    """First pause after the store failed; doubles up to 2 s."""


class SpoolForwarder:
    """Spool files of one writer (adopted orphans first, our own last) and the thread that empties them."""

    def __init__(
        self,
        store: ObservationStore,
        folder: Path,
        spools: list[Spool],
        pacing: Pacing,
        *,
        drops: Drops,
        on_progress: Callable[[], None],
    ) -> None:
        """``on_progress`` is called after each forwarding round (the writer wakes its ``flush()``)."""
        self.store = store
        self.folder = folder
        self._spools = spools
        self._drops = drops
        self._batch_size = pacing.batch_size
        self._interval = pacing.flush_interval_s
        self._backoff = pacing.retry_backoff_s
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._finishing = threading.Event()
        self._thread: threading.Thread | None = None
        self.pending = sum(s.count() for s in spools)
        """Observations on disk, not yet acknowledged by the store."""
        self.replayed = self.pending
        """Observations found spooled by writers that died."""
        self.written = 0
        self.retries = 0

    @classmethod
    def open(
        cls,
        store: ObservationStore,
        folder: str | os.PathLike[str],
        pacing: Pacing,
        *,
        drops: Drops,
        on_progress: Callable[[], None],
    ) -> SpoolForwarder | None:
        """Our spool in ``folder`` plus the orphans found there; None (and a warning) when it is unusable."""
        try:
            orphans = Spool.orphans(folder)
            own = Spool.create(folder)
        except (OSError, sqlite3.Error) as exc:
            logger.warning("observation spool disabled: cannot use '%s': %s", folder, exc)
            return None
        spools = [*orphans, own]
        forwarder = cls(store, Path(folder), spools, pacing, drops=drops, on_progress=on_progress)
        if forwarder.replayed:
            logger.warning("replaying %d observation(s) spooled by a writer that died", forwarder.replayed)
            forwarder.start()
        return forwarder

    def start(self) -> None:
        """Start the forwarding thread (once)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="routing-agent-spool", daemon=True)
                self._thread.start()

    def append(self, batch: Sequence[Observation]) -> bool:
        """Commit ``batch`` to our spool file; False when the spool failed (the caller writes directly)."""
        try:
            self._spools[-1].append(batch)
        except Exception as exc:
            self._drops.warn_once("spool_failed", f"the observation spool failed ({exc}); writing directly")
            return False
        with self._lock:
            self.pending += len(batch)
        self.start()
        self._wake.set()
        return True

    def wake(self) -> None:
        """Forward now rather than at the next interval."""
        self._wake.set()

    def _run(self) -> None:
        delay = self._backoff
        while True:
            sent = self._forward_once()
            if sent is None:  # the store failed: the rows stay spooled, try again later (or leave at close)
                if self._finishing.wait(delay):
                    return
                delay = min(delay * 2, 2.0)
                continue
            delay = self._backoff
            self._on_progress()
            if sent:
                continue
            if self._finishing.is_set():
                return
            self._wake.wait(self._interval)
            self._wake.clear()

    def _forward_once(self) -> int | None:
        """Forward one batch: the count sent, 0 when every spool is empty, None when the store failed."""
        for spool in list(self._spools):
            try:
                last, batch = spool.peek(self._batch_size)
            except Exception as exc:
                self._drops.warn_once("spool_failed", f"cannot read the observation spool: {exc}")
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
                self._drops.warn_once(
                    f"spool_store:{type(exc).__name__}",
                    f"the store refused spooled observations ({exc}); they stay spooled and are retried",
                )
                return None
            spool.remove_through(last)
            with self._lock:
                self.written += len(batch)
                self.pending -= len(batch)
            return len(batch)
        return 0

    def close(self, timeout_s: float) -> None:
        """Forward what is left (up to ``timeout_s``), stop, and delete the empty files. What the store still
        refuses stays on disk for the next writer on the folder (logged with its count)."""
        self._finishing.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                return  # stuck inside a store call: the daemon thread dies with the process, the file stays
        for spool in self._spools:
            spool.close(delete=True)
        self._spools = []
        if self.pending:
            logger.warning(
                "routing-agent: %d observation(s) stay in the spool folder %s; the next writer on it replays "
                "them",
                self.pending,
                self.folder,
            )
