"""The sample-size plan of the primary metric: how many units each arm needs, how many it has, how long to go.

The plan is ``routing_agent.stats.plan_sample_size`` for the test the evaluator runs, in the direction its
decision needs: two-sided superiority at the metric's ``alpha`` is powered against a rise *and* a drop of the
MDE (a rate's variance differs between them); a non-inferiority primary is decided one-sided at ``alpha / 2``
(the two-sided ``1 − alpha`` interval clears the margin) and is planned there, against a true difference of 0.
Rates at or near 0/1 are planned for the score test the evaluator runs there, so a 99.5 % baseline still gets
a finite plan. The configured allocation is used, with Bonferroni across several test arms, at the metric's
``power``. Its inputs come from the YAML (``baseline``, ``baseline_sd``) when given, else from the control arm
observed so far (once it has ``MIN_UNITS_FOR_OBSERVED_PLAN`` units): the rate for a 0/1 metric, the per-unit
standard deviation for a mean, the delta-method standard deviation per unit for a per-call or ratio metric.
Days remaining divide the units still needed — for the arm furthest behind, scaled by its weight — by the
traffic per day (given, or measured as units observed over the observation time span).
"""

from __future__ import annotations

__all__ = ["MIN_UNITS_FOR_OBSERVED_PLAN", "SamplePlan", "plan_primary"]

import math
from dataclasses import dataclass
from typing import Any, Literal

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.metrics import MetricData
from routing_agent.stats import RatioSummary, SampleSizePlan, as_json, plan_sample_size

MIN_UNITS_FOR_OBSERVED_PLAN = 30


@dataclass(frozen=True)
class SamplePlan:
    """Planned and observed units per arm of the primary metric, and the time still needed."""

    planned: dict[str, int]
    observed: dict[str, int]
    plan: SampleSizePlan | None = None
    source: Literal["spec", "observed"] | None = None
    traffic_per_day: float | None = None
    note: str = ""

    @property
    def remaining(self) -> dict[str, int]:
        """Units still needed per arm (0 once reached)."""
        return {v: max(0, n - self.observed.get(v, 0)) for v, n in self.planned.items()}

    @property
    def reached(self) -> bool:
        """Every arm has its planned units (False without a plan)."""
        return bool(self.planned) and all(n == 0 for n in self.remaining.values())

    @property
    def sample_needed(self) -> int | None:
        """The most units any arm still needs (None without a plan)."""
        return max(self.remaining.values()) if self.planned else None

    @property
    def horizon_units(self) -> int:
        """The planned total over arms: the always-valid tests' tuning point (5,000 without a plan)."""
        return self.plan.total if self.plan is not None else 5000

    def days_remaining(self, weights: dict[str, float]) -> float | None:
        """Days until every arm has its units at ``traffic_per_day`` enrolled units split by ``weights``."""
        if not self.planned or not self.traffic_per_day:
            return None
        needed = max((r / weights[v] for v, r in self.remaining.items() if weights.get(v)), default=0.0)
        return needed / self.traffic_per_day

    def to_json(self, weights: dict[str, float]) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "planned": self.planned,
            "observed": self.observed,
            "remaining": self.remaining,
            "reached": self.reached,
            "sample_needed": self.sample_needed,
            "source": self.source,
            "traffic_per_day": self.traffic_per_day,
            "days_remaining": self.days_remaining(weights),
            "rule_of_thumb_per_arm": self.plan.rule_of_thumb_per_arm if self.plan else None,
            "describe": self.plan.describe() if self.plan else [],
            "plan": as_json(self.plan) if self.plan else None,
            "note": self.note,
        }


def _observed_inputs(data: MetricData, control: str) -> tuple[float, float | None] | None:
    """(baseline, sd per unit) of the control arm; sd None for a 0/1 per-unit metric (a rate)."""
    if data.n(control) < MIN_UNITS_FOR_OBSERVED_PLAN:
        return None
    summary = data.summary(control)
    if isinstance(summary, RatioSummary):
        return summary.ratio, math.sqrt(summary.variance_of_ratio * summary.n)
    if data.proportion:
        return summary.mean, None
    return summary.mean, math.sqrt(summary.variance)


def plan_primary(
    spec: ExperimentSpec,
    data: MetricData,
    *,
    control: str,
    arms: list[str],
    traffic_per_day: float | None,
) -> SamplePlan:
    """The primary metric's plan (see the module docstring); no plan when its inputs are not known yet."""
    if traffic_per_day is not None and not (math.isfinite(traffic_per_day) and traffic_per_day > 0):
        traffic_per_day = None  # no measured rate yet: no duration rather than a negative or infinite one
    m = spec.primary_metric
    assert m is not None
    observed = {v: data.n(v) for v in [control, *arms]}
    arms = [a for a in arms if (spec.variant(a).weight or 0) > 0]
    weights = [spec.variant(v).weight or 0.0 for v in [control, *arms]]
    rate = m.kind == "binary" and data.shape == "per_unit"
    baseline, sd, source = m.baseline, m.baseline_sd, "spec"
    if baseline is None or (sd is None and not rate):
        seen = _observed_inputs(data, control)
        if seen is None:
            note = (
                f"no plan yet: the YAML gives no baseline{'' if rate else '/baseline_sd'} and control has "
                f"{data.n(control)} of the {MIN_UNITS_FOR_OBSERVED_PLAN} units needed to estimate it"
            )
            return SamplePlan({}, observed, traffic_per_day=traffic_per_day, note=note)
        baseline = seen[0] if baseline is None else baseline
        sd = seen[1] if sd is None else sd
        source = "observed"
    if rate:
        sd = None
        baseline = min(max(baseline, 0.005), 0.995)
    elif sd is None or sd <= 0:
        return SamplePlan(
            {}, observed, traffic_per_day=traffic_per_day, note="no plan: zero variance in control"
        )
    try:
        plan = plan_sample_size(
            baseline=baseline, mde=m.mde, sd=sd, mde_relative=m.mde_relative, direction=m.direction,
            alpha=m.alpha / 2 if m.test == "non_inferiority" else m.alpha, power=m.power,
            test="non-inferiority" if m.test == "non_inferiority" else "two-sided",
            margin=m.margin, margin_relative=m.margin_relative, weights=weights, arms=len(weights),
            traffic_per_day=traffic_per_day,
        )  # fmt: skip
    except ValueError as exc:
        return SamplePlan({}, observed, traffic_per_day=traffic_per_day, note=f"no plan: {exc}")
    planned = dict(zip([control, *arms], plan.n_per_arm, strict=True))
    return SamplePlan(planned, observed, plan, source, traffic_per_day)  # type: ignore[arg-type]
