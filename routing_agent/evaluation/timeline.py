"""The primary metric replayed over time, for the report's "sample vs plan" and "p-value over time" plots.

A ``watch`` process keeps each evaluation's ``Look``; a one-off report has only the present look. For stores
that keep raw rows (``RAW_ROWS``: memory, SQLite) this module replays the primary metric's observations in
time order (``Observation.ts``) and takes ``points`` looks at evenly spaced row counts: per-unit running sums
are updated row by row, and at each look the always-valid test is run on the cumulative aggregates, chained
with ``previous`` exactly as ``watch`` would have run it. This report-only path holds the primary metric's
rows (one per unit for a per-session outcome) in memory to sort them; the decision path never does.
"""

from __future__ import annotations

__all__ = ["replay_timeline"]

from dataclasses import replace

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.analysis import Look
from routing_agent.evaluation.metrics import MetricData
from routing_agent.stats import SequentialResult
from routing_agent.stores.capabilities import Capability
from routing_agent.stores.observations.aggregates import UnitAggregate
from routing_agent.stores.observations.base import ObservationStore


class _Running:
    """Per-variant running sums over units, updated one observation at a time."""

    def __init__(self) -> None:
        self.units: dict[tuple[str, str], tuple[float, int]] = {}
        self.sums: dict[str, list[float]] = {}

    def add(self, variant: str, unit: str, value: float) -> None:
        x, n = self.units.get((variant, unit), (0.0, 0))
        x2, n2 = x + value, n + 1
        self.units[(variant, unit)] = (x2, n2)
        s = self.sums.setdefault(variant, [0.0] * 7)  # units, obs, Σx, Σx², Σy, Σy², Σxy
        s[0] += n == 0
        s[1] += 1
        s[2] += value
        s[3] += x2 * x2 - x * x
        s[4] += 1
        s[5] += n2 * n2 - n * n
        s[6] += x2 * n2 - x * n

    def aggregates(self) -> dict[str, UnitAggregate]:
        return {v: UnitAggregate(int(s[0]), int(s[1]), *s[2:]) for v, s in self.sums.items()}


def replay_timeline(
    spec: ExperimentSpec,
    store: ObservationStore,
    overall: MetricData,
    *,
    control: str,
    arms: list[str],
    horizon_units: int,
    points: int,
) -> list[Look]:
    """Looks at ``points`` evenly spaced moments of the primary metric's history (empty if not replayable)."""
    m = spec.primary_metric
    if m is None or Capability.RAW_ROWS not in store.capabilities or overall.shape == "ratio" or not arms:
        return []
    total = sum(a.n_obs for v, a in overall.aggregates.items() if v in (control, *arms))
    if total == 0:
        return []
    cuts = {max(1, round(total * i / points)) for i in range(1, points + 1)}
    k = max(len(arms), 1)
    running = _Running()
    previous: SequentialResult | None = None
    looks: list[Look] = []
    rows = sorted(
        (obs.ts, obs.variant, obs.unit_id, obs.value)
        for obs in store.observations(spec.id, m.name)
        if (m.agent is None or obs.agent == m.agent) and obs.variant in (control, *arms)
    )
    seen, last_ts = 0, 0.0
    for ts, variant, unit, value in rows:
        running.add(variant, unit, value)
        seen += 1
        last_ts = ts
        if seen not in cuts:
            continue
        data = replace(overall, aggregates=running.aggregates())
        look = Look(at=last_ts, units={v: data.n(v) for v in (control, *arms)})
        if data.has(control) and data.has(arms[0]) and min(data.n(control), data.n(arms[0])) >= 2:
            previous = data.sequential(
                control, arms[0], alpha=m.alpha / k, horizon_units=horizon_units, previous=previous
            )
            look = replace(
                look, p_value=previous.p_value, effect=previous.absolute_effect, ci_low=previous.ci_low,
                ci_high=previous.ci_high,
            )  # fmt: skip
        looks.append(look)
    return looks
