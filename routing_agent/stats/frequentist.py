"""Fixed-horizon two-sample tests: two-proportion z (pooled and unpooled) and Welch's t, from summaries.

References (checked to 1e-9 in ``tests/stats``): ``statsmodels.stats.proportion.proportions_ztest`` (pooled),
``test_proportions_2indep(method="wald")`` and ``confint_proportions_2indep(method="wald")`` (unpooled),
``scipy.stats.ttest_ind_from_stats(equal_var=False)`` and ``statsmodels.stats.weightstats.CompareMeans``
(Welch; ``ztest_ind(usevar="unequal")`` for the z variant).
"""

from __future__ import annotations

__all__ = [
    "MIN_SUCCESSES",
    "MIN_UNITS_PER_ARM",
    "compare_means",
    "compare_proportions",
    "mean_arm",
    "proportion_arm",
]

import math

from routing_agent.stats.results import Alternative, ArmEstimate, EffectResult, compare_arms, welch_df
from routing_agent.stats.summaries import SampleSummary

MIN_UNITS_PER_ARM = 30
"""Fewer units than this in an arm marks a mean comparison unreliable (the CLT is doing too little work)."""

MIN_SUCCESSES = 5
"""Fewer successes (or failures) than this in an arm marks a proportion comparison unreliable."""


def proportion_arm(summary: SampleSummary, label: str) -> tuple[ArmEstimate, list[str]]:
    """A 0/1 outcome's rate and its unpooled variance, plus the assumptions it fails."""
    notes: list[str] = []
    n, successes = summary.n, summary.sum
    if n <= 0:
        return ArmEstimate(0.0, 0.0, 0), [f"{label} has no units"]
    if not summary.is_binary:
        notes.append(f"{label} values are not 0/1 (sum of squares != sum); use compare_means")
    p = successes / n
    failures = n - successes
    if successes == n:
        notes.append(f"all-success {label} arm ({n} of {n}): the normal approximation does not hold")
    elif successes == 0:
        notes.append(f"no successes in {label} (0 of {n}): the normal approximation does not hold")
    elif min(successes, failures) < MIN_SUCCESSES:
        notes.append(
            f"fewer than {MIN_SUCCESSES} successes or failures in {label}: the normal approximation is poor"
        )
    return ArmEstimate(p, p * (1.0 - p) / n, n), notes


def mean_arm(summary: SampleSummary, label: str) -> tuple[ArmEstimate, list[str]]:
    """A per-unit mean and the variance of that mean, plus the assumptions it fails."""
    notes: list[str] = []
    if summary.n < 2:
        notes.append(f"{label} has {summary.n} unit(s): its variance cannot be estimated")
    elif summary.n < MIN_UNITS_PER_ARM:
        notes.append(f"{label} has only {summary.n} units (< {MIN_UNITS_PER_ARM}): too few for a t test")
    if summary.n >= 2 and summary.variance == 0.0:
        notes.append(f"zero variance in {label}: every unit has the same value")
    return ArmEstimate(summary.mean, summary.variance_of_mean, summary.n), notes


def compare_proportions(
    control: SampleSummary,
    treatment: SampleSummary,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    pooled: bool = False,
) -> EffectResult:
    """Two-proportion z test of a 0/1 per-unit outcome (``SampleSummary.from_counts(successes, n)``).

    ``pooled=False`` (default) is the Wald test with unpooled variance, the same standard error as its CI
    and as the power calculator; ``pooled=True`` uses the pooled rate under H0 for the statistic (the
    textbook test, ``statsmodels.stats.proportion.proportions_ztest``) and keeps the Wald CI.
    """
    c_arm, c_notes = proportion_arm(control, "control")
    t_arm, t_notes = proportion_arm(treatment, "treatment")
    test_se = None
    if pooled and c_arm.n > 0 and t_arm.n > 0:
        p = (control.sum + treatment.sum) / (c_arm.n + t_arm.n)
        test_se = math.sqrt(p * (1.0 - p) * (1.0 / c_arm.n + 1.0 / t_arm.n))
    return compare_arms(
        c_arm,
        t_arm,
        method="two-proportion z test (" + ("pooled" if pooled else "unpooled") + ")",
        alpha=alpha,
        alternative=alternative,
        test_std_error=test_se,
        warnings=tuple(c_notes + t_notes),
    )


def compare_means(
    control: SampleSummary,
    treatment: SampleSummary,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    use_t: bool = True,
) -> EffectResult:
    """Welch's t test (unequal variances) of a per-unit mean; ``use_t=False`` gives the z test."""
    c_arm, c_notes = mean_arm(control, "control")
    t_arm, t_notes = mean_arm(treatment, "treatment")
    df = welch_df(c_arm, t_arm) if use_t else None
    return compare_arms(
        c_arm,
        t_arm,
        method="Welch's t test" if use_t else "two-sample z test (unequal variances)",
        alpha=alpha,
        alternative=alternative,
        df=df,
        warnings=tuple(c_notes + t_notes),
    )
