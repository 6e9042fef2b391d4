"""The observation-store protocol every backend (memory, SQLite, Redis) implements.

**Write path.** ``add`` stores a batch; an observation whose ``id`` was stored before is ignored
(idempotent retries). The telemetry hook never calls ``add`` on the graph's thread: it goes through
``BufferedObservationWriter`` (bounded buffer, background flush, retries, dropped counter). So the protocol
has no async twins (async callers run reads in a worker thread).

**Read path (the evaluator's).** Aggregation happens where the data lives (SQL ``GROUP BY`` in SQLite,
server-side running sums and Lua in Redis), so the evaluator reads a few numbers per variant, never raw rows:

* ``unit_aggregates(experiment, metric)`` → ``{variant: UnitAggregate}`` with per-unit ``x`` = the
  unit's sum of ``metric`` and ``y`` = its observation count; with ``denominator="calls"`` ``y`` is the unit's
  sum of that metric instead (ratio metrics, CUPED covariates). Units with either metric count, a
  missing one as 0.
* ``unit_values(...)`` → per-unit ``UnitValue(variant, unit_id, value, n_obs)``, for methods that need the
  per-unit distribution (bootstrap, per-unit quantiles);
* ``histogram(...)`` → ``{variant: LogHistogram}`` of the per-observation values (quantiles of latency/TTFT);
* ``tail_aggregates(experiment, metric, thresholds)`` → ``{variant: UnitAggregate}`` with per-unit ``x`` = the
  unit's observations at or below its variant's threshold and ``y`` = all its observations: the unit-clustered
  variance of a quantile (p95 latency) without raw rows;
* ``counts_by_variant(...)`` → units per variant (SRM checks);
* ``time_span(experiment)`` → first and last observation time (unit arrival rate);
* ``metrics`` / ``segments`` → what was observed.

``agent=`` keeps observations of one agent; ``segment=(key, value)`` keeps those whose ``segments[key]`` is
``value``. Every method may raise ``StoreUnavailable``.
"""

from __future__ import annotations

__all__ = ["ObservationStore", "Segment"]

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

from routing_agent.stores.capabilities import Capability
from routing_agent.stores.observations.aggregates import LogHistogram, UnitAggregate, UnitValue
from routing_agent.stores.observations.observation import Observation

Segment = tuple[str, str]


@runtime_checkable
class ObservationStore(Protocol):
    """Stores observations and answers per-variant, per-unit aggregate queries."""

    capabilities: frozenset[Capability]

    def add(self, observations: Sequence[Observation]) -> int:
        """Store a batch; returns how many were new (ids seen before are skipped)."""
        ...

    def unit_aggregates(
        self,
        experiment: str,
        metric: str,
        *,
        denominator: str | None = None,
        agent: str | None = None,
        segment: Segment | None = None,
    ) -> dict[str, UnitAggregate]:
        """Per-variant sufficient statistics over units (see the module docstring)."""
        ...

    def unit_values(
        self, experiment: str, metric: str, *, agent: str | None = None, segment: Segment | None = None
    ) -> Iterator[UnitValue]:
        """Per-unit sums and counts of ``metric`` (any order)."""
        ...

    def histogram(self, experiment: str, metric: str, *, agent: str | None = None) -> dict[str, LogHistogram]:
        """Per-variant histogram of the individual observation values."""
        ...

    def tail_aggregates(
        self, experiment: str, metric: str, thresholds: Mapping[str, float], *, agent: str | None = None
    ) -> dict[str, UnitAggregate]:
        """Per-variant sums over units of (observations ≤ ``thresholds[variant]``, observations).

        Variants not in ``thresholds`` are left out. Backends without raw values (Redis) compare log-histogram
        buckets: a value counts when its bucket is at or below the threshold's (1 % resolution).
        """
        ...

    def counts_by_variant(
        self, experiment: str, metric: str | None = None, *, agent: str | None = None
    ) -> dict[str, int]:
        """Distinct units per variant with at least one observation (of ``metric`` when given)."""
        ...

    def time_span(self, experiment: str) -> tuple[float, float] | None:
        """Timestamps (``Observation.ts``) of the first and the last observation; None when there are none."""
        ...

    def metrics(self, experiment: str) -> set[str]:
        """Metric names observed in the experiment."""
        ...

    def segments(self, experiment: str) -> dict[str, set[str]]:
        """Segment keys observed in the experiment and their values."""
        ...

    def observations(self, experiment: str, metric: str | None = None) -> Iterator[Observation]:
        """Raw rows (only with ``RAW_ROWS``; others raise ``NotImplementedError``)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
