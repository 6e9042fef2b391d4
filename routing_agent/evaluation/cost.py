"""Cost per unit (session, user, request) per variant, and the cheaper variant picked "with confidence".

The cost of a unit is the sum of its calls' ``cost_usd`` (every agent, every call, judge calls excluded by the
telemetry); arms are compared with Welch's t on those per-unit totals. When the primary metric shows no
difference, the playbook's point is that the cheaper option can be picked with confidence: the winner is the
cheapest eligible variant *if* its cost per unit is significantly below control's; otherwise control stays.
"""

from __future__ import annotations

__all__ = ["CostComparison", "compare_costs"]

from dataclasses import dataclass
from typing import Any

from routing_agent.evaluation.metrics import MetricData
from routing_agent.evaluation.text import num
from routing_agent.stats import EffectResult


@dataclass(frozen=True)
class CostComparison:
    """Per-unit cost of each variant and each test arm's comparison with control."""

    metric: str
    control: str
    data: MetricData
    comparisons: dict[str, EffectResult]
    alpha: float

    def mean(self, variant: str) -> float | None:
        """Mean cost per unit (None without data)."""
        return self.data.value(variant)

    def times_cheaper(self, arm: str) -> tuple[float, float | None, float | None] | None:
        """control / arm with a CI (from the relative effect's CI); None when undefined."""
        r = self.comparisons.get(arm)
        if r is None or r.relative_effect is None or r.treatment_mean <= 0 or r.control_mean <= 0:
            return None
        ratio = r.control_mean / r.treatment_mean
        low = 1.0 / (1.0 + r.relative_ci_high) if r.relative_ci_high is not None else None
        high_base = r.relative_ci_low
        high = 1.0 / (1.0 + high_base) if high_base is not None and 1.0 + high_base > 0 else None
        return ratio, low, high

    def significantly_cheaper(self, arm: str) -> bool:
        """The arm's cost per unit is significantly below control's."""
        r = self.comparisons.get(arm)
        return r is not None and r.reliable and r.significant and r.absolute_effect < 0

    def significantly_dearer(self, arm: str) -> bool:
        """The arm's cost per unit is significantly above control's."""
        r = self.comparisons.get(arm)
        return r is not None and r.reliable and r.significant and r.absolute_effect > 0

    def pick(self, eligible: list[str]) -> tuple[str, str]:
        """The variant to pick among ``eligible`` (control included), and why, in words."""
        priced = [v for v in eligible if self.data.has(v)]
        if self.control not in priced:
            return self.control, f"no {self.metric} observations: control stays"
        if any((self.mean(v) or 0.0) < 0 for v in priced):
            return self.control, f"negative {self.metric} per unit (check the prices): control stays"
        cheapest = min(priced, key=lambda v: self.mean(v) or 0.0)
        if cheapest == self.control:
            dearer = [v for v in eligible if v != self.control and self.significantly_dearer(v)]
            return self.control, "control is the cheapest" + (
                f" ({', '.join(dearer)} significantly dearer)" if dearer else ""
            )
        if not self.significantly_cheaper(cheapest):
            p = self.comparisons[cheapest].p_value
            return self.control, f"{cheapest} is not significantly cheaper (p = {p:.2g}): control stays"
        return cheapest, self.describe(cheapest)

    def describe(self, arm: str) -> str:
        """E.g. "candidate costs 4.2× less per unit (95% CI 4.0–4.4×)"."""
        times = self.times_cheaper(arm)
        if times is None:
            r = self.comparisons.get(arm)
            if r is not None and min(r.control_mean, r.treatment_mean) < 0:
                return f"{arm}: cost not comparable (negative cost per unit: check the prices)"
            return f"{arm}: cost not comparable"
        ratio, low, high = times
        level = f"{100 * (1 - self.alpha):g}%"
        ci = f" ({level} CI {num(low)}–{num(high)}×)" if low is not None and high is not None else ""
        if not (self.significantly_cheaper(arm) or self.significantly_dearer(arm)):
            return f"{arm}'s cost per unit is not significantly different from control's ({num(ratio)}×{ci})"
        if ratio >= 1:
            return f"{arm} costs {num(ratio)}× less per unit{ci}"
        return f"{arm} costs {num(1 / ratio)}× more per unit"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        variants = sorted(self.data.aggregates)
        per_unit = {
            v: {
                "mean": self.mean(v),
                "n": self.data.n(v),
                "std_error": self.data.arm(v).variance_of_mean ** 0.5,
            }
            for v in variants
        }
        comparisons = []
        for arm, r in self.comparisons.items():
            times = self.times_cheaper(arm)
            comparisons.append(
                {
                    "variant": arm,
                    "times_cheaper": times[0] if times else None,
                    "times_cheaper_ci_low": times[1] if times else None,
                    "times_cheaper_ci_high": times[2] if times else None,
                    "significantly_cheaper": self.significantly_cheaper(arm),
                    "result": r.to_json(),
                }
            )
        return {
            "metric": self.metric,
            "control": self.control,
            "per_unit": per_unit,
            "comparisons": comparisons,
        }


def compare_costs(data: MetricData, *, control: str, arms: list[str], alpha: float) -> CostComparison | None:
    """Every test arm's cost per unit against control's (None when nothing was priced)."""
    if not data.aggregates:
        return None
    comparisons = {
        arm: data.compare(control, arm, alpha=alpha) for arm in arms if data.has(arm) and data.has(control)
    }
    return CostComparison(data.name, control, data, comparisons, alpha)
