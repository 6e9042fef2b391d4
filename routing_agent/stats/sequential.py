"""Always-valid inference for checking guardrails after every batch: the mixture SPRT (mSPRT).

Method: the normal-mixture sequential probability ratio test of Johari, Koomen, Pekelis & Walsh ("Peeking at
A/B Tests", KDD 2017; "Always Valid Inference: Continuous Monitoring of A/B Tests", Operations Research
70(3), 2022). With the effect estimate ``Δ̂`` after ``n`` units, its variance ``V`` (from the same cumulative
summaries as the fixed-horizon test) and a N(θ₀, τ²) mixing distribution over the effect,

    Λ = √(V / (V + τ²)) · exp( τ²(Δ̂ − θ₀)² / (2V(V + τ²)) ),      always-valid p = min(1, 1/Λ),

and the confidence sequence ``Δ̂ ± √( V(V + τ²)/τ² · (2 log(1/α) + log((V + τ²)/V)) )``. Under H0 the chance
that ``p ≤ α`` at *any* look, however many and whenever taken, is at most α (Ville's inequality); peeking
after every batch does not inflate false positives. Passing ``previous`` (the last result for the same
comparison) keeps the running minimum p-value and the running intersection of the sequence; without it
each look is still valid, only slightly wider.

Mixing variance: by default τ² is tuned so the sequence is narrowest when ``horizon_units`` units (both
arms) have arrived, ``τ² = r*·V·N / N*`` with ``r* = −2 log α + log(1 − 2 log α)`` (Howard, Ramdas,
McAuliffe & Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49(2),
2021, eq. 3.7; the same tuning as GrowthBook's sequential engine). ``V`` is the plug-in variance of the
current look, which makes this the asymptotic confidence sequence of Waudby-Smith, Arnold, Wu, Howard &
Ramdas ("Time-uniform central limit theory and asymptotic confidence sequences", Ann. Statist. 52(6),
2024). ``mixing_variance`` sets τ² directly (in squared units of the effect) instead.

The test is two-sided. To check a one-sided guardrail ("not worse by more than 30%"), look at whether the
sequence excludes the bound on the bad side: that is a valid level-α test (it spends α on both sides).
``scale="relative"`` runs the same mixture on the relative lift with its delta-method variance.
"""

from __future__ import annotations

__all__ = ["DEFAULT_HORIZON_UNITS", "SequentialResult", "optimal_mixing_ratio", "sequential_test"]

import math
from dataclasses import dataclass
from typing import Literal

from routing_agent.stats.frequentist import mean_arm, proportion_arm
from routing_agent.stats.ratio import ratio_arm
from routing_agent.stats.results import ArmEstimate, EffectResult, Scale, compare_arms
from routing_agent.stats.summaries import RatioSummary, SampleSummary

DEFAULT_HORIZON_UNITS = 5000
"""Total units (both arms) at which the default mixing variance makes the sequence narrowest."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SequentialResult(EffectResult):
    """``p_value`` is always valid and ``ci_low``/``ci_high`` (and the relative bounds) form a confidence
    sequence; ``fixed_horizon_p_value`` is the ordinary p-value at this look, for display only."""

    mixing_variance: float
    looks: int
    fixed_horizon_p_value: float


def optimal_mixing_ratio(alpha: float) -> float:
    """``τ² / V`` that minimises the sequence's width at the tuning horizon (Howard et al. 2021)."""
    two_log = -2.0 * math.log(alpha)
    return two_log + math.log(1.0 + two_log)


def _mixture(
    estimate: float, variance: float, tau2: float, null: float, alpha: float
) -> tuple[float, float, float]:
    """(always-valid p-value, sequence low, sequence high) at one look."""
    if not (variance > 0 and tau2 > 0 and math.isfinite(variance)):
        same = estimate == null
        return (1.0 if same else 0.0), estimate, estimate
    total = variance + tau2
    log_lr = 0.5 * math.log(variance / total) + tau2 * (estimate - null) ** 2 / (2.0 * variance * total)
    p = 1.0 if log_lr <= 0 else math.exp(-log_lr)
    half = math.sqrt(variance * total / tau2 * (2.0 * math.log(1.0 / alpha) + math.log(total / variance)))
    return p, estimate - half, estimate + half


def sequential_test(
    control: SampleSummary | RatioSummary | ArmEstimate,
    treatment: SampleSummary | RatioSummary | ArmEstimate,
    *,
    alpha: float = 0.05,
    kind: Literal["mean", "proportion"] = "mean",
    scale: Scale = "absolute",
    null_value: float = 0.0,
    horizon_units: int = DEFAULT_HORIZON_UNITS,
    mixing_variance: float | None = None,
    previous: SequentialResult | None = None,
) -> SequentialResult:
    """mSPRT on cumulative summaries: always-valid p-value and confidence sequence for treatment − control.

    Call it after every batch with the cumulative summaries (``SampleSummary`` for a per-unit mean or a 0/1
    outcome with ``kind="proportion"``; ``RatioSummary`` for a per-call ratio clustered by unit). Any other
    asymptotically normal estimate can be passed as an ``ArmEstimate`` per arm, e.g. a p95 latency from
    ``estimate_quantile(...).arm()``; the sequence is then asymptotic in the same sense.
    """
    if horizon_units < 2:
        raise ValueError(f"horizon_units must be at least 2, got {horizon_units}")
    c_notes: list[str]
    t_notes: list[str]
    if isinstance(control, ArmEstimate) and isinstance(treatment, ArmEstimate):
        c_arm, t_arm, c_notes, t_notes = control, treatment, [], []
        base_name = "estimate"
    elif isinstance(control, RatioSummary) and isinstance(treatment, RatioSummary):
        (c_arm, c_notes), (t_arm, t_notes) = ratio_arm(control, "control"), ratio_arm(treatment, "treatment")
        base_name = "delta-method ratio"
    elif isinstance(control, SampleSummary) and isinstance(treatment, SampleSummary):
        arm = proportion_arm if kind == "proportion" else mean_arm
        (c_arm, c_notes), (t_arm, t_notes) = arm(control, "control"), arm(treatment, "treatment")
        base_name = "proportion" if kind == "proportion" else "mean"
    else:
        raise TypeError("control and treatment must be two SampleSummary, RatioSummary or ArmEstimate")
    fixed = compare_arms(
        c_arm,
        t_arm,
        method="",
        alpha=alpha,
        null_value=null_value,
        null_scale=scale,
        warnings=tuple(c_notes + t_notes),
    )
    if scale == "relative":
        estimate = fixed.relative_effect if fixed.relative_effect is not None else 0.0
        se = fixed.relative_std_error if fixed.relative_std_error is not None else 0.0
    else:
        estimate, se = fixed.absolute_effect, fixed.std_error
    variance = se * se
    n_total = c_arm.n + t_arm.n
    if mixing_variance is not None:
        if not mixing_variance > 0:
            raise ValueError(f"mixing_variance must be positive, got {mixing_variance}")
        tau2 = mixing_variance
    else:
        tau2 = optimal_mixing_ratio(alpha) * variance * n_total / horizon_units
    p, low, high = _mixture(estimate, variance, tau2, null_value, alpha)

    rel_low, rel_high = fixed.relative_ci_low, fixed.relative_ci_high
    if scale == "absolute" and fixed.relative_effect is not None and fixed.relative_std_error is not None:
        rel_var = fixed.relative_std_error**2
        rel_tau2 = tau2 * rel_var / variance if variance > 0 else 0.0
        _, rel_low, rel_high = _mixture(fixed.relative_effect, rel_var, rel_tau2, 0.0, alpha)
    abs_low, abs_high = (low, high) if scale == "absolute" else (fixed.ci_low, fixed.ci_high)
    if scale == "relative":
        rel_low, rel_high = low, high
        abs_tau2 = tau2 * fixed.std_error**2 / variance if variance > 0 else 0.0
        _, abs_low, abs_high = _mixture(fixed.absolute_effect, fixed.std_error**2, abs_tau2, 0.0, alpha)

    looks = 1
    notes = list(fixed.warnings)
    if previous is not None:
        looks = previous.looks + 1
        p = min(p, previous.p_value)
        low2, high2 = max(abs_low, previous.ci_low), min(abs_high, previous.ci_high)
        if low2 <= high2:
            abs_low, abs_high = low2, high2
        else:
            notes.append("the running intersection of the sequence is empty: the effect is drifting")
        if rel_low is not None and rel_high is not None:
            prev_low, prev_high = previous.relative_ci_low, previous.relative_ci_high
            low2 = max(rel_low, prev_low) if prev_low is not None else rel_low
            high2 = min(rel_high, prev_high) if prev_high is not None else rel_high
            if low2 <= high2:
                rel_low, rel_high = low2, high2
    fields = {name: getattr(fixed, name) for name in EffectResult.__dataclass_fields__}
    fields.update(
        method=f"mSPRT always-valid test ({base_name}, {scale} scale)",
        reliable=fixed.reliable and len(notes) == len(fixed.warnings),
        warnings=tuple(notes),
        p_value=p,
        ci_low=abs_low,
        ci_high=abs_high,
        relative_ci_low=rel_low,
        relative_ci_high=rel_high,
    )
    return SequentialResult(**fields, mixing_variance=tau2, looks=looks, fixed_horizon_p_value=fixed.p_value)
