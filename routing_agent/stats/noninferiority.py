"""Non-inferiority: is the candidate no worse than control by more than a margin? One-sided, direction-aware.

=========================  ===========================================  ===================================
metric direction           H0 (candidate is inferior)                   H1 (non-inferior)
=========================  ===========================================  ===================================
``increase`` (accuracy)    Δ ≤ −margin      (relative: lift ≤ −margin)  alternative ``larger``
``decrease`` (latency)     Δ ≥ +margin      (relative: lift ≥ +margin)  alternative ``smaller``
=========================  ===========================================  ===================================

Δ is treatment − control; the relative lift is treatment / control − 1 with its delta-method standard
error. A ``p_value < alpha`` means "non-inferior", and the one-sided CI bound then clears the margin.
Absolute tests match statsmodels (``test_proportions_2indep(method="wald", value=…)`` for proportions,
``CompareMeans.ttest_ind(usevar="unequal", value=…)`` for means).
"""

from __future__ import annotations

__all__ = ["Direction", "MetricKind", "non_inferiority"]

from typing import Literal

from routing_agent.stats.frequentist import mean_arm, proportion_arm
from routing_agent.stats.ratio import ratio_arm
from routing_agent.stats.results import EffectResult, Scale, compare_arms, welch_df
from routing_agent.stats.summaries import RatioSummary, SampleSummary

Direction = Literal["increase", "decrease"]
"""Which way is better for the metric (``MetricSpec.direction``)."""

MetricKind = Literal["proportion", "mean"]


def non_inferiority(
    control: SampleSummary | RatioSummary,
    treatment: SampleSummary | RatioSummary,
    *,
    margin: float,
    relative: bool = False,
    direction: Direction = "increase",
    kind: MetricKind = "mean",
    alpha: float = 0.05,
) -> EffectResult:
    """One-sided non-inferiority test with an absolute or relative margin.

    ``SampleSummary`` inputs use Welch's t (``kind="mean"``) or the unpooled z test
    (``kind="proportion"``); ``RatioSummary`` inputs use the delta-method z test. ``margin`` is positive:
    0.02 means "at most 2 points worse" (or 2% worse with ``relative=True``) in the bad direction.
    """
    if not margin > 0:
        raise ValueError(f"margin must be positive, got {margin}")
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be 'increase' or 'decrease', got {direction!r}")
    df: float | None = None
    if isinstance(control, RatioSummary) and isinstance(treatment, RatioSummary):
        (c_arm, c_notes), (t_arm, t_notes) = ratio_arm(control, "control"), ratio_arm(treatment, "treatment")
        base = "delta-method ratio z test"
    elif isinstance(control, SampleSummary) and isinstance(treatment, SampleSummary):
        if kind == "proportion":
            c_arm, c_notes = proportion_arm(control, "control")
            t_arm, t_notes = proportion_arm(treatment, "treatment")
            base = "two-proportion z test (unpooled)"
        else:
            c_arm, c_notes = mean_arm(control, "control")
            t_arm, t_notes = mean_arm(treatment, "treatment")
            df = welch_df(c_arm, t_arm)
            base = "Welch's t test"
    else:
        raise TypeError("control and treatment must both be SampleSummary or both be RatioSummary")
    null = -margin if direction == "increase" else margin
    scale: Scale = "relative" if relative else "absolute"
    return compare_arms(
        c_arm,
        t_arm,
        method=f"non-inferiority ({base}, {scale} margin {margin:g}, {direction} is better)",
        alpha=alpha,
        alternative="larger" if direction == "increase" else "smaller",
        df=df,
        null_value=null,
        null_scale=scale,
        warnings=tuple(c_notes + t_notes),
    )
