"""In-process observation store: the reference implementation and a test double (one process only)."""

from __future__ import annotations

__all__ = ["MemoryObservationStore", "aggregate_rows", "from_url"]

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from routing_agent.stores.capabilities import Capability
from routing_agent.stores.observations.aggregates import LogHistogram, UnitAggregate, UnitValue
from routing_agent.stores.observations.base import Segment
from routing_agent.stores.observations.observation import Observation, check_observations

if TYPE_CHECKING:
    from routing_agent.stores._url import StoreURL


def _keep(obs: Observation, agent: str | None, segment: Segment | None) -> bool:
    if agent is not None and obs.agent != agent:
        return False
    return segment is None or obs.segments.get(segment[0]) == segment[1]


def aggregate_rows(
    rows: Iterable[Observation],
    metric: str,
    *,
    denominator: str | None = None,
    agent: str | None = None,
    segment: Segment | None = None,
) -> dict[str, UnitAggregate]:
    """``unit_aggregates`` computed in Python from raw rows (the definition the other backends match)."""
    units: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # x, y, n_obs
    for obs in rows:
        if not _keep(obs, agent, segment):
            continue
        if obs.metric == metric:
            cell = units[(obs.variant, obs.unit_id)]
            cell[0] += obs.value
            cell[2] += 1
            if denominator is None:
                cell[1] += 1
        elif denominator is not None and obs.metric == denominator:
            units[(obs.variant, obs.unit_id)][1] += obs.value
    per_variant: dict[str, list[tuple[float, float]]] = defaultdict(list)
    n_obs: dict[str, int] = defaultdict(int)
    for (variant, _), (x, y, n) in units.items():
        per_variant[variant].append((x, y))
        n_obs[variant] += int(n)
    return {v: UnitAggregate.of(pairs, n_obs[v]) for v, pairs in per_variant.items()}


class MemoryObservationStore:
    """Observations in a list, guarded by a lock. Aggregates are computed on read."""

    capabilities = frozenset({Capability.RAW_ROWS})

    def __init__(self) -> None:
        self._rows: list[Observation] = []
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def add(self, observations: Sequence[Observation]) -> int:
        """Store a batch; ids seen before are skipped. ``ValueError`` (nothing stored) for an invalid one."""
        observations = list(observations)
        check_observations(observations)
        added = 0
        with self._lock:
            for obs in observations:
                if obs.id is not None:
                    if obs.id in self._ids:
                        continue
                    self._ids.add(obs.id)
                self._rows.append(obs)
                added += 1
        return added

    def _snapshot(self, experiment: str) -> list[Observation]:
        with self._lock:
            return [o for o in self._rows if o.experiment == experiment]

    def unit_aggregates(
        self,
        experiment: str,
        metric: str,
        *,
        denominator: str | None = None,
        agent: str | None = None,
        segment: Segment | None = None,
    ) -> dict[str, UnitAggregate]:
        """Per-variant sufficient statistics over units."""
        return aggregate_rows(
            self._snapshot(experiment), metric, denominator=denominator, agent=agent, segment=segment
        )

    def unit_values(
        self, experiment: str, metric: str, *, agent: str | None = None, segment: Segment | None = None
    ) -> Iterator[UnitValue]:
        """Per-unit sums and counts of ``metric``."""
        cells: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for obs in self._snapshot(experiment):
            if obs.metric == metric and _keep(obs, agent, segment):
                cell = cells[(obs.variant, obs.unit_id)]
                cell[0] += obs.value
                cell[1] += 1
        for (variant, unit), (value, count) in cells.items():
            yield UnitValue(variant, unit, value, int(count))

    def histogram(self, experiment: str, metric: str, *, agent: str | None = None) -> dict[str, LogHistogram]:
        """Per-variant histogram of the observation values."""
        out: dict[str, LogHistogram] = {}
        for obs in self._snapshot(experiment):
            if obs.metric == metric and _keep(obs, agent, None):
                out.setdefault(obs.variant, LogHistogram()).add(obs.value)
        return out

    def tail_aggregates(
        self, experiment: str, metric: str, thresholds: Mapping[str, float], *, agent: str | None = None
    ) -> dict[str, UnitAggregate]:
        """Per-variant sums over units of (observations ≤ the variant's threshold, observations)."""
        units: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for obs in self._snapshot(experiment):
            if obs.metric == metric and obs.variant in thresholds and _keep(obs, agent, None):
                cell = units[(obs.variant, obs.unit_id)]
                cell[0] += obs.value <= thresholds[obs.variant]
                cell[1] += 1
        per_variant: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for (variant, _), (below, n) in units.items():
            per_variant[variant].append((below, n))
        return {v: UnitAggregate.of(pairs) for v, pairs in per_variant.items()}

    def time_span(self, experiment: str) -> tuple[float, float] | None:
        """First and last observation time."""
        stamps = [o.ts for o in self._snapshot(experiment)]
        return (min(stamps), max(stamps)) if stamps else None

    def counts_by_variant(
        self, experiment: str, metric: str | None = None, *, agent: str | None = None
    ) -> dict[str, int]:
        """Distinct units per variant."""
        units: dict[str, set[str]] = defaultdict(set)
        for obs in self._snapshot(experiment):
            if (metric is None or obs.metric == metric) and _keep(obs, agent, None):
                units[obs.variant].add(obs.unit_id)
        return {v: len(u) for v, u in units.items()}

    def metrics(self, experiment: str) -> set[str]:
        """Metric names observed."""
        return {o.metric for o in self._snapshot(experiment)}

    def segments(self, experiment: str) -> dict[str, set[str]]:
        """Segment keys and values observed."""
        out: dict[str, set[str]] = defaultdict(set)
        for obs in self._snapshot(experiment):
            for key, value in obs.segments.items():
                out[key].add(value)
        return dict(out)

    def observations(self, experiment: str, metric: str | None = None) -> Iterator[Observation]:
        """Raw rows, in insertion order."""
        for obs in self._snapshot(experiment):
            if metric is None or obs.metric == metric:
                yield obs

    def close(self) -> None:
        """Nothing to release."""


def from_url(url: StoreURL) -> MemoryObservationStore:
    """The registry's opener: a new, empty store (``memory://`` takes no options)."""
    return MemoryObservationStore()
