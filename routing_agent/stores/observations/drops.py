"""What a buffered writer cannot write: invalid observations filtered out, and every drop counted.

``valid_observations`` keeps what a store can keep from the groups the graph handed over (an observation
with a NaN value or a lone surrogate in an id is refused on its own, so it cannot fail the batch it travels
with). ``Drops`` counts each dropped observation — ``stats()["dropped"]``, the OTel counter
``routing_agent.observations.dropped`` by cause — and logs one warning per cause, never raising.
"""

from __future__ import annotations

__all__ = ["DROPPED", "Drops", "valid_observations"]

import logging
import threading
from collections.abc import Sequence

from opentelemetry.metrics import MeterProvider

from routing_agent._meters import ActiveCounter
from routing_agent.stores.observations.observation import Observation, count_rejected, observation_problem

logger = logging.getLogger("routing_agent.observations")

DROPPED = ActiveCounter(
    "routing_agent.observations.dropped",
    unit="{observation}",
    description="Observations dropped: the store failed, the buffer was full, or they were invalid.",
)


class Drops:
    """The drop count of one writer, its OTel counter and its once-per-cause warnings."""

    def __init__(self, meter_provider: MeterProvider | None = None) -> None:
        self.count = 0
        self._counter = DROPPED.counter(meter_provider) if meter_provider is not None else DROPPED
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def warn_once(self, cause: str, message: str) -> None:
        """Log ``message`` the first time ``cause`` happens."""
        with self._lock:
            if cause in self._warned:
                return
            self._warned.add(cause)
        logger.warning("routing-agent: %s", message)

    def drop(self, n: int, cause: str, exc: BaseException | None = None) -> None:
        """Count ``n`` observations dropped for ``cause`` (``kind:detail``; the counter gets the kind)."""
        try:
            with self._lock:
                self.count += n
                first = cause not in self._warned
                self._warned.add(cause)
            self._counter.add(n, {"routing_agent.cause": cause.split(":", maxsplit=1)[0]})
            if first:
                logger.warning(
                    "routing-agent dropped %d observation(s) (%s%s); further drops are counted in "
                    "routing_agent.observations.dropped",
                    n,
                    cause,
                    f": {exc}" if exc is not None else "",
                )
        except Exception:  # pragma: no cover - never raise into the caller
            pass


def _experiment_of(group: Sequence[Observation]) -> str:
    try:
        return str(group[0].experiment)
    except Exception:  # a lazy group that cannot build its first observation
        return "?"


def valid_observations(groups: Sequence[Sequence[Observation]]) -> tuple[list[Observation], int, str | None]:
    """(storable observations, how many were refused, the first problem). A group that can check itself
    (``checked()``: the observations of one call, which share most fields) does."""
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
    return good, bad, first
