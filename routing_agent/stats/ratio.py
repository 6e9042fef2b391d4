"""Ratio metrics over units (the delta method): cost per call, errors per call, tokens per call.

When the unit of randomization is the session (or user) but the metric is per LLM call, calls of one
session are correlated and treating them as independent understates the variance (see
``tests/stats/test_clustering.py``: the naive per-call test's false-positive rate is several times α).
Instead each unit contributes a numerator *x* (its total cost) and a denominator *y* (its calls); the
metric is ``Σx / Σy`` and its variance is the delta method over units:

    Var(Σx/Σy) ≈ (1 / (n·ȳ²)) · (s²ₓ − 2R·sₓᵧ + R²·s²ᵧ),   R = Σx/Σy

(Deng, Knoblich & Lu, "Applying the Delta Method in Metric Analytics", KDD 2018). It equals
statsmodels' cluster-robust OLS variance of the per-call mean with ``groups=unit`` (checked in the tests).

A denominator that sums to zero or below makes the arm unreliable with a message saying so. A negative
numerator (a refund, a profit that can be a loss) is a valid ratio; its lift is measured against |control|
(``EffectResult.relative_effect``), so the sign of the change is kept.
"""

from __future__ import annotations

__all__ = ["compare_ratios", "ratio_arm"]

from routing_agent.stats.frequentist import MIN_UNITS_PER_ARM
from routing_agent.stats.results import Alternative, ArmEstimate, EffectResult, compare_arms
from routing_agent.stats.summaries import RatioSummary


def ratio_arm(summary: RatioSummary, label: str) -> tuple[ArmEstimate, list[str]]:
    """One arm's ratio and its delta-method variance, plus the assumptions it fails."""
    notes: list[str] = []
    if summary.n < 2:
        notes.append(f"{label} has {summary.n} unit(s): its variance cannot be estimated")
    elif summary.n < MIN_UNITS_PER_ARM:
        notes.append(f"{label} has only {summary.n} units (< {MIN_UNITS_PER_ARM}): the delta method is rough")
    if summary.denominator_total == 0:
        notes.append(f"the denominator sums to 0 in {label}: the ratio is undefined")
    elif summary.denominator_total < 0:
        notes.append(
            f"the denominator sums to {summary.denominator_total:g} in {label}: a ratio needs a positive "
            "denominator (e.g. calls); check the metric's denominator"
        )
    elif summary.n >= 2 and summary.variance_of_ratio == 0.0:
        notes.append(f"zero variance in {label}: every unit has the same ratio")
    return ArmEstimate(summary.ratio, summary.variance_of_ratio, summary.n), notes


def compare_ratios(
    control: RatioSummary,
    treatment: RatioSummary,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
) -> EffectResult:
    """z test of ``Σx/Σy`` between arms with delta-method variances over units (clustered by unit)."""
    c_arm, c_notes = ratio_arm(control, "control")
    t_arm, t_notes = ratio_arm(treatment, "treatment")
    return compare_arms(
        c_arm,
        t_arm,
        method="delta-method ratio z test (clustered by unit)",
        alpha=alpha,
        alternative=alternative,
        warnings=tuple(c_notes + t_notes),
    )
