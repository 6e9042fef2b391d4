"""Where scores go: counters per scorer, and a forgiving write to any observation sink."""

from __future__ import annotations

__all__ = ["ScoringStats", "emit"]

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from routing_agent.scoring.base import Score, Status
from routing_agent.stores.observations.observation import Observation

logger = logging.getLogger("routing_agent.scoring")


_LIMITS = frozenset({"oversize", "timeout", "busy"})  # see routing_agent.scoring.bounds


class ScoringStats:
    """Per-scorer counts: ``scored``, ``invalid``, ``skipped``, ``errors``; plus ``not_enrolled`` units."""

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    def add(self, name: str, score: Score) -> None:
        """Count one score by its status."""
        kind = {Status.OK: "scored", Status.INVALID: "invalid", Status.SKIPPED: "skipped"}[score.status]
        with self._lock:
            self._counts[name][kind] += 1
            if score.status is Status.INVALID and score.label in _LIMITS:  # timeout / oversize / busy
                self._counts[name][score.label] += 1

    def error(self, name: str, exc: BaseException) -> None:
        """Count a scorer failure (logged once per scorer)."""
        with self._lock:
            self._counts[name]["errors"] += 1
            first = name not in self._warned
            self._warned.add(name)
        if first:
            logger.warning(
                "scorer '%s' failed (%s: %s); counted, scoring goes on", name, type(exc).__name__, exc
            )

    def missing(self, name: str, where: str | None, n: int = 1) -> None:
        """Count outputs that were not found (``missing_output``); the first is logged per scorer."""
        if n <= 0:
            return
        with self._lock:
            self._counts[name]["missing_output"] += n
            first = f"missing:{name}" not in self._warned
            self._warned.add(f"missing:{name}")
        if first:
            logger.warning(
                "scorer '%s': no output at '%s'; not scored (counted as missing_output). Set output_field to "
                "the state key that holds the agent's output.",
                name,
                where,
            )

    def count(self, name: str, kind: str, n: int = 1) -> None:
        """Add ``n`` to any other counter (``not_enrolled``, ``sink_errors`` …)."""
        with self._lock:
            self._counts[name][kind] += n

    def snapshot(self) -> dict[str, dict[str, int]]:
        """A copy of every counter."""
        with self._lock:
            return {name: dict(counts) for name, counts in self._counts.items()}


def emit(sink: Any, batch: Sequence[Observation], stats: ScoringStats | None = None) -> None:
    """Send observations to a sink: an ``ObservationStore`` (``add``), a buffered writer (``add_many``), a
    list (``extend``) or a callable. Never raises: a failing sink is logged once and counted."""
    if sink is None or not batch:
        return
    try:
        if hasattr(sink, "add_many"):
            sink.add_many(batch)
        elif isinstance(sink, list):
            sink.extend(batch)
        elif hasattr(sink, "add"):
            sink.add(list(batch))
        else:
            sink(list(batch))
    except Exception as exc:
        if stats is not None:
            stats.error("sink", exc)
        else:
            logger.warning("observation sink failed: %s", exc)
