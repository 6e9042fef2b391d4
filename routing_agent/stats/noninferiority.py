"""Non-inferiority and equivalence: is the candidate no worse than control by more than a margin?

=========================  ===========================================  ===================================
metric direction           H0 (candidate is inferior)                   H1 (non-inferior)
=========================  ===========================================  ===================================
``increase`` (accuracy)    Δ ≤ −margin      (relative: lift ≤ −margin)  alternative ``larger``
``decrease`` (latency)     Δ ≥ +margin      (relative: lift ≥ +margin)  alternative ``smaller``
=========================  ===========================================  ===================================

Δ is treatment − control; the relative lift is ``(treatment − control) / |control|`` with its delta-method
standard error, so a relative margin is a share of the control's *magnitude* and keeps its meaning on a
negative-mean metric (a −2 % lift is a move of 2 % of |control| in the bad direction, never a sign flip).
A ``p_value < alpha`` means "non-inferior", and the one-sided CI bound then clears the margin.

0/1 outcomes (``kind="proportion"``) go through ``proportion_comparison``: the Wald z test where it is
reliable, else the Miettinen–Nurminen score test against the margin (absolute: on ``p_t − p_c``; relative: on
``p_t / p_c``), valid at 0 % / 100 % rates. Absolute Wald and Welch tests match statsmodels
(``test_proportions_2indep(method="wald"|"score", value=…)``, ``CompareMeans.ttest_ind(usevar="unequal",
value=…)``).

``equivalence`` is the two one-sided tests (TOST, Schuirmann 1987): equivalent when both
``Δ > −margin`` and ``Δ < +margin`` are shown; its p-value is the larger of the two one-sided p-values and its
interval is the two-sided ``1 − 2α`` interval, which lies inside ``(−margin, +margin)`` exactly when the
test says "equivalent".
"""

from __future__ import annotations

__all__ = ["Direction", "MetricKind", "equivalence", "non_inferiority"]

import dataclasses
from typing import Literal

from routing_agent.stats.frequentist import ProportionMethod, mean_arm, proportion_comparison
from routing_agent.stats.ratio import ratio_arm
from routing_agent.stats.results import Alternative, EffectResult, Scale, compare_arms, welch_df
from routing_agent.stats.summaries import RatioSummary, SampleSummary

Direction = Literal["increase", "decrease"]
"""Which way is better for the metric (``MetricSpec.direction``)."""

MetricKind = Literal["proportion", "mean"]


def _one_sided(
    control: SampleSummary | RatioSummary,
    treatment: SampleSummary | RatioSummary,
    *,
    null: float,
    scale: Scale,
    alternative: Alternative,
    kind: MetricKind,
    alpha: float,
    label: str,
    method: ProportionMethod,
) -> EffectResult:
    if isinstance(control, RatioSummary) and isinstance(treatment, RatioSummary):
        (c_arm, c_notes), (t_arm, t_notes) = ratio_arm(control, "control"), ratio_arm(treatment, "treatment")
        base, df, method_id = "delta-method ratio z test", None, "delta"
    elif isinstance(control, SampleSummary) and isinstance(treatment, SampleSummary):
        if kind == "proportion":
            return proportion_comparison(
                control, treatment, alpha=alpha, alternative=alternative, null_value=null,
                null_scale=scale, method=method, label=label,
            )  # fmt: skip
        (c_arm, c_notes), (t_arm, t_notes) = mean_arm(control, "control"), mean_arm(treatment, "treatment")
        base, df, method_id = "Welch's t test", welch_df(c_arm, t_arm), "welch"
    else:
        raise TypeError("control and treatment must both be SampleSummary or both be RatioSummary")
    return compare_arms(
        c_arm,
        t_arm,
        method=f"{label} ({base})",
        alpha=alpha,
        alternative=alternative,
        df=df,
        null_value=null,
        null_scale=scale,
        warnings=tuple(c_notes + t_notes),
        method_id=method_id,
    )


def _check_margin(margin: float) -> None:
    if not margin > 0:
        raise ValueError(f"margin must be a positive number, got {margin}")


def non_inferiority(
    control: SampleSummary | RatioSummary,
    treatment: SampleSummary | RatioSummary,
    *,
    margin: float,
    relative: bool = False,
    direction: Direction = "increase",
    kind: MetricKind = "mean",
    alpha: float = 0.05,
    method: ProportionMethod = "auto",
) -> EffectResult:
    """One-sided non-inferiority test with an absolute or relative margin.

    ``SampleSummary`` inputs use Welch's t (``kind="mean"``) or the two-proportion test chosen by
    ``method`` (``kind="proportion"``; ``auto``: Wald where reliable, else the score test);
    ``RatioSummary`` inputs use the delta-method z test. ``margin`` is positive: 0.02 means "at most 2
    points worse" (or 2 % of |control| worse with ``relative=True``) in the bad direction.
    """
    _check_margin(margin)
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be 'increase' or 'decrease', got {direction!r}")
    scale: Scale = "relative" if relative else "absolute"
    return _one_sided(
        control,
        treatment,
        null=-margin if direction == "increase" else margin,
        scale=scale,
        alternative="larger" if direction == "increase" else "smaller",
        kind=kind,
        alpha=alpha,
        label=f"non-inferiority, {scale} margin {margin:g}, {direction} is better",
        method=method,
    )


def equivalence(
    control: SampleSummary | RatioSummary,
    treatment: SampleSummary | RatioSummary,
    *,
    margin: float,
    relative: bool = False,
    kind: MetricKind = "mean",
    alpha: float = 0.05,
    method: ProportionMethod = "auto",
) -> EffectResult:
    """TOST equivalence: is the effect inside ``(−margin, +margin)`` (absolute, or relative to |control|)?

    ``p_value`` is the larger one-sided p-value and ``statistic`` the matching one; ``ci_low``/``ci_high``
    (or the relative bounds) are the two-sided ``1 − 2α`` interval; ``null_value`` is the margin.
    """
    _check_margin(margin)
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be between 0 and 0.5 for an equivalence test, got {alpha}")
    scale: Scale = "relative" if relative else "absolute"
    label = f"equivalence (TOST), {scale} margin ±{margin:g}"
    common = {"scale": scale, "kind": kind, "alpha": alpha, "label": label, "method": method}
    lower = _one_sided(control, treatment, null=-margin, alternative="larger", **common)  # type: ignore[arg-type]
    upper = _one_sided(control, treatment, null=margin, alternative="smaller", **common)  # type: ignore[arg-type]
    binding = lower if lower.p_value >= upper.p_value else upper
    interval = _one_sided(
        control, treatment, null=0.0, scale="absolute", alternative="two-sided", kind=kind,
        alpha=2 * alpha, label=label, method=method,
    )  # fmt: skip
    return dataclasses.replace(
        binding,
        ci_low=interval.ci_low,
        ci_high=interval.ci_high,
        relative_ci_low=interval.relative_ci_low,
        relative_ci_high=interval.relative_ci_high,
        alternative="two-sided",
        null_value=margin,
        reliable=lower.reliable and upper.reliable,
        warnings=tuple(dict.fromkeys(lower.warnings + upper.warnings)),
    )
