"""Fixed-horizon two-sample tests: two proportions (Wald z or the score test) and Welch's t, from summaries.

Proportions pick their method: the Wald z test where its normal approximation holds (every arm has at least
``WALD_MIN_COUNT`` successes and as many failures), else the Miettinen–Nurminen score test with its score
interval (``routing_agent.stats.proportions``), which stays valid at 0 % / 100 % rates and in small samples.
``method="wald"`` / ``"score"`` forces one; the result's ``method_id`` says which ran.

References (checked to 1e-9 in ``tests/stats``): ``statsmodels.stats.proportion.proportions_ztest`` (pooled),
``test_proportions_2indep(method="wald")`` and ``confint_proportions_2indep(method="wald")`` (unpooled),
``scipy.stats.ttest_ind_from_stats(equal_var=False)`` and ``statsmodels.stats.weightstats.CompareMeans``
(Welch; ``ztest_ind(usevar="unequal")`` for the z variant).
"""

from __future__ import annotations

__all__ = [
    "MIN_SCORE_UNITS",
    "MIN_SUCCESSES",
    "MIN_UNITS_PER_ARM",
    "WALD_MIN_COUNT",
    "ProportionMethod",
    "compare_means",
    "compare_proportions",
    "mean_arm",
    "proportion_arm",
    "proportion_comparison",
    "wald_is_reliable",
]

import dataclasses
import math
from typing import Literal

from routing_agent.stats.proportions import score_interval, score_test_proportions
from routing_agent.stats.results import (
    Alternative,
    ArmEstimate,
    EffectResult,
    Scale,
    compare_arms,
    welch_df,
)
from routing_agent.stats.summaries import SampleSummary

ProportionMethod = Literal["auto", "wald", "score"]
"""``auto``: Wald where ``wald_is_reliable``, else the score test."""

WALD_MIN_COUNT = 10
"""``auto`` runs the Wald test only when every arm has at least this many successes and failures."""

MIN_SCORE_UNITS = 10
"""Fewer units than this in an arm marks even the score test unreliable."""

MIN_UNITS_PER_ARM = 30
"""Fewer units than this in an arm marks a mean comparison unreliable (the CLT is doing too little work)."""

MIN_SUCCESSES = 5
"""Fewer successes (or failures) than this in an arm marks a proportion comparison unreliable."""


def proportion_arm(summary: SampleSummary, label: str) -> tuple[ArmEstimate, list[str]]:
    """A 0/1 outcome's rate and its unpooled variance, plus the assumptions it fails."""
    notes: list[str] = []
    n, successes = summary.n, summary.total
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


def wald_is_reliable(*arms: SampleSummary) -> bool:
    """Every arm is 0/1 with at least ``WALD_MIN_COUNT`` successes and ``WALD_MIN_COUNT`` failures."""
    return all(a.is_binary and min(a.total, a.n - a.total) >= WALD_MIN_COUNT for a in arms)


def _score_applies(control: SampleSummary, treatment: SampleSummary) -> bool:
    return all(a.is_binary and a.n > 0 for a in (control, treatment))


def _score_result(
    control: SampleSummary,
    treatment: SampleSummary,
    *,
    alpha: float,
    alternative: Alternative,
    null_value: float,
    null_scale: Scale,
    method: str,
) -> EffectResult:
    """The score test and score interval, with the Wald record's estimates and delta-method lift beside."""
    c_arm, _ = proportion_arm(control, "control")
    t_arm, _ = proportion_arm(treatment, "treatment")
    base = compare_arms(c_arm, t_arm, method=method, alpha=alpha, alternative=alternative)
    xc, nc, xt, nt = control.total, control.n, treatment.total, treatment.n
    notes = [
        f"{label} has only {n} units (< {MIN_SCORE_UNITS}): too few even for the score test"
        for label, n in (("control", nc), ("treatment", nt))
        if n < MIN_SCORE_UNITS
    ]
    remarks = [w for w in base.warnings if "relative effect is undefined" in w]
    diff_null = null_value if null_scale == "absolute" else 0.0
    z, p = score_test_proportions(xc, nc, xt, nt, null_value=diff_null, alternative=alternative)
    low, high = score_interval(xc, nc, xt, nt, alpha=alpha, alternative=alternative)
    rel_fields: dict[str, float | None] = {}
    if xc > 0:
        ratio_null = 1.0 + (null_value if null_scale == "relative" else 0.0)
        rz, rp = score_test_proportions(
            xc, nc, xt, nt, null_value=ratio_null, compare="ratio", alternative=alternative
        )
        r_low, r_high = score_interval(xc, nc, xt, nt, alpha=alpha, alternative=alternative, compare="ratio")
        rel_fields = {
            "relative_ci_low": r_low - 1.0,
            "relative_ci_high": r_high - 1.0,
            "relative_statistic": rz,
            "relative_p_value": rp,
        }
        if null_scale == "relative":
            z, p = rz, rp
    elif null_scale == "relative":
        notes.append("control has no successes: a relative margin cannot be tested")
        z, p = 0.0, 1.0
    return dataclasses.replace(
        base,
        ci_low=low,
        ci_high=high,
        statistic=z,
        p_value=p,
        null_value=null_value,
        null_scale=null_scale,
        reliable=not notes,
        warnings=tuple(notes + remarks),
        method_id="score",
        **rel_fields,  # type: ignore[arg-type]
    )


def proportion_comparison(
    control: SampleSummary,
    treatment: SampleSummary,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    null_value: float = 0.0,
    null_scale: Scale = "absolute",
    method: ProportionMethod = "auto",
    pooled: bool = False,
    label: str = "",
) -> EffectResult:
    """Two proportions against ``null_value`` (absolute difference or relative lift) by the chosen method.

    The engine behind ``compare_proportions``, ``non_inferiority`` and ``equivalence`` for 0/1 outcomes;
    ``label`` prefixes the method name (e.g. ``"non-inferiority"``).
    """
    if method not in ("auto", "wald", "score"):
        raise ValueError(f"method must be 'auto', 'wald' or 'score', got {method!r}")
    use_score = method == "score" or (method == "auto" and not wald_is_reliable(control, treatment))
    prefix = f"{label} (" if label else ""
    suffix = ")" if label else ""
    if use_score and _score_applies(control, treatment):
        name = "two-proportion score test (Miettinen–Nurminen, score interval)"
        if method == "auto":
            name += "; chosen because the Wald test is unreliable here"
        return _score_result(
            control,
            treatment,
            alpha=alpha,
            alternative=alternative,
            null_value=null_value,
            null_scale=null_scale,
            method=prefix + name + suffix,
        )
    c_arm, c_notes = proportion_arm(control, "control")
    t_arm, t_notes = proportion_arm(treatment, "treatment")
    test_se = None
    if pooled and c_arm.n > 0 and t_arm.n > 0 and null_value == 0.0 and null_scale == "absolute":
        p = (control.total + treatment.total) / (c_arm.n + t_arm.n)
        test_se = math.sqrt(p * (1.0 - p) * (1.0 / c_arm.n + 1.0 / t_arm.n))
    name = "two-proportion z test (" + ("pooled" if test_se is not None else "unpooled") + ")"
    return compare_arms(
        c_arm,
        t_arm,
        method=prefix + name + suffix,
        alpha=alpha,
        alternative=alternative,
        null_value=null_value,
        null_scale=null_scale,
        test_std_error=test_se,
        warnings=tuple(c_notes + t_notes),
        method_id="wald",
    )


def compare_proportions(
    control: SampleSummary,
    treatment: SampleSummary,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    pooled: bool = False,
    method: ProportionMethod = "auto",
) -> EffectResult:
    """Two-proportion test of a 0/1 per-unit outcome (``SampleSummary.from_counts(successes, n)``).

    ``method="auto"`` (default) runs the Wald z test where it is reliable (``wald_is_reliable``) and the
    Miettinen–Nurminen score test with its score interval elsewhere (0/1 rates, few successes or failures);
    ``"wald"`` / ``"score"`` force one. On the Wald path ``pooled=False`` uses the unpooled variance (the
    same standard error as its CI and as the power calculator) and ``pooled=True`` the pooled rate under H0
    for the statistic (``statsmodels.stats.proportion.proportions_ztest``) with the Wald CI.
    """
    return proportion_comparison(
        control, treatment, alpha=alpha, alternative=alternative, method=method, pooled=pooled
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
        method_id="welch" if use_t else "z",
    )
