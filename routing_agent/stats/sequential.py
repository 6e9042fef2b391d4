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

One-sided tests (``alternative="larger"`` / ``"smaller"``) test the *composite* H0 ``Δ ≤ θ₀`` (``≥ θ₀``),
the non-inferiority hypothesis with ``θ₀ = −margin``, not equality: the mixture is a half-normal over the
alternative side only, which in closed form is

    Λ₊ = 2·Φ( d·τ / √(V(V + τ²)) ) · Λ,     d = Δ̂ − θ₀ (``larger``; θ₀ − Δ̂ for ``smaller``),

a non-negative supermartingale under every Δ ≤ θ₀, so ``p = min(1, 1/Λ₊)`` is always valid for the whole
null. Its confidence sequence is one-sided: ``[low, +inf)`` (``larger``) with ``low`` the θ₀ where
``Λ₊ = 1/α``, solved numerically; it only ever moves up across looks. The two-sided test above stays the
default, for guardrails that may breach either way.

``scale="relative"`` runs the same mixture on the relative lift with its delta-method variance. For 0/1
outcomes (``kind="proportion"``) where the Wald variance is unreliable (an arm with fewer than 10 successes
or failures, e.g. a 100 % rate) the variance uses Agresti–Caffo's rates ``(x + 1)/(n + 2)``, so an
all-success arm never gives a zero-width sequence.
"""

from __future__ import annotations

__all__ = ["DEFAULT_HORIZON_UNITS", "SequentialResult", "optimal_mixing_ratio", "sequential_test"]

import math
from dataclasses import dataclass
from typing import Literal

from scipy import optimize, special

from routing_agent.stats.frequentist import mean_arm, proportion_arm, wald_is_reliable
from routing_agent.stats.ratio import ratio_arm
from routing_agent.stats.results import Alternative, ArmEstimate, EffectResult, Scale, compare_arms
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
    estimate: float,
    variance: float,
    tau2: float,
    null: float,
    alpha: float,
    *,
    alternative: Alternative = "two-sided",
) -> tuple[float, float, float]:
    """(always-valid p-value, sequence low, sequence high) at one look."""
    if not (variance > 0 and tau2 > 0 and math.isfinite(variance)):
        if alternative == "two-sided":
            return (1.0 if estimate == null else 0.0), estimate, estimate
        beyond = estimate > null if alternative == "larger" else estimate < null
        low, high = (estimate, math.inf) if alternative == "larger" else (-math.inf, estimate)
        return (0.0 if beyond else 1.0), low, high
    total = variance + tau2
    if alternative == "two-sided":
        log_lr = 0.5 * math.log(variance / total) + tau2 * (estimate - null) ** 2 / (2.0 * variance * total)
        p = 1.0 if log_lr <= 0 else math.exp(-log_lr)
        half = math.sqrt(variance * total / tau2 * (2.0 * math.log(1.0 / alpha) + math.log(total / variance)))
        return p, estimate - half, estimate + half
    sign = 1.0 if alternative == "larger" else -1.0
    scale = math.sqrt(tau2 / (variance * total))

    def log_lr_one(d: float) -> float:  # log Λ₊ at distance d from the null, towards the alternative
        return (
            math.log(2.0)
            + float(special.log_ndtr(d * scale))
            + 0.5 * math.log(variance / total)
            + (0.5 * (d * scale) ** 2)
        )

    log_lr = log_lr_one(sign * (estimate - null))
    p = 1.0 if log_lr <= 0 else math.exp(-log_lr)
    target = math.log(1.0 / alpha)
    two_sided_half = math.sqrt(variance * total / tau2 * (2.0 * target + math.log(total / variance)))
    distance = float(
        optimize.brentq(lambda d: log_lr_one(d) - target, 0.0, two_sided_half, xtol=1e-14 * two_sided_half)
    )
    if alternative == "larger":
        return p, estimate - distance, math.inf
    return p, -math.inf, estimate + distance


def _agresti_caffo_arm(summary: SampleSummary, label: str) -> tuple[ArmEstimate, list[str]]:
    """The observed rate with Agresti–Caffo's variance ``p̃(1 − p̃)/(n + 2)``, ``p̃ = (x + 1)/(n + 2)``."""
    arm, notes = proportion_arm(summary, label)
    n = summary.n
    if n <= 0:
        return arm, notes
    adjusted = (summary.total + 1.0) / (n + 2.0)
    kept = [w for w in notes if "normal approximation" not in w]
    return ArmEstimate(arm.mean, adjusted * (1.0 - adjusted) / (n + 2.0), n), kept


def sequential_test(
    control: SampleSummary | RatioSummary | ArmEstimate,
    treatment: SampleSummary | RatioSummary | ArmEstimate,
    *,
    alpha: float = 0.05,
    kind: Literal["mean", "proportion"] = "mean",
    scale: Scale = "absolute",
    null_value: float = 0.0,
    alternative: Alternative = "two-sided",
    horizon_units: int = DEFAULT_HORIZON_UNITS,
    mixing_variance: float | None = None,
    previous: SequentialResult | None = None,
) -> SequentialResult:
    """mSPRT on cumulative summaries: always-valid p-value and confidence sequence for treatment − control.

    Call it after every batch with the cumulative summaries (``SampleSummary`` for a per-unit mean or a 0/1
    outcome with ``kind="proportion"``; ``RatioSummary`` for a per-call ratio clustered by unit). Any other
    asymptotically normal estimate can be passed as an ``ArmEstimate`` per arm, e.g. a p95 latency from
    ``estimate_quantile(...).arm()``; the sequence is then asymptotic in the same sense.

    ``alternative="larger"`` (``"smaller"``) is the one-sided test of H0 ``Δ ≤ null_value`` (``≥``), e.g.
    a non-inferiority primary with ``null_value=-margin``; see the module docstring.
    """
    if horizon_units < 2:
        raise ValueError(f"horizon_units must be at least 2, got {horizon_units}")
    if alternative not in ("two-sided", "larger", "smaller"):
        raise ValueError(f"alternative must be 'two-sided', 'larger' or 'smaller', got {alternative!r}")
    c_notes: list[str]
    t_notes: list[str]
    if isinstance(control, ArmEstimate) and isinstance(treatment, ArmEstimate):
        c_arm, t_arm, c_notes, t_notes = control, treatment, [], []
        base_name = "estimate"
    elif isinstance(control, RatioSummary) and isinstance(treatment, RatioSummary):
        (c_arm, c_notes), (t_arm, t_notes) = ratio_arm(control, "control"), ratio_arm(treatment, "treatment")
        base_name = "delta-method ratio"
    elif isinstance(control, SampleSummary) and isinstance(treatment, SampleSummary):
        arm = mean_arm
        base_name = "mean"
        if kind == "proportion":
            adjusted = not wald_is_reliable(control, treatment)
            arm = _agresti_caffo_arm if adjusted else proportion_arm
            base_name = "proportion, Agresti–Caffo variance" if adjusted else "proportion"
        (c_arm, c_notes), (t_arm, t_notes) = arm(control, "control"), arm(treatment, "treatment")
    else:
        raise TypeError("control and treatment must be two SampleSummary, RatioSummary or ArmEstimate")
    fixed = compare_arms(
        c_arm,
        t_arm,
        method="",
        alpha=alpha,
        alternative=alternative,
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
    p, low, high = _mixture(estimate, variance, tau2, null_value, alpha, alternative=alternative)

    rel_low, rel_high = fixed.relative_ci_low, fixed.relative_ci_high
    if scale == "absolute" and fixed.relative_effect is not None and fixed.relative_std_error is not None:
        rel_var = fixed.relative_std_error**2
        rel_tau2 = tau2 * rel_var / variance if variance > 0 else 0.0
        _, rel_low, rel_high = _mixture(
            fixed.relative_effect, rel_var, rel_tau2, 0.0, alpha, alternative=alternative
        )
    abs_low, abs_high = (low, high) if scale == "absolute" else (fixed.ci_low, fixed.ci_high)
    if scale == "relative":
        rel_low, rel_high = low, high
        abs_tau2 = tau2 * fixed.std_error**2 / variance if variance > 0 else 0.0
        _, abs_low, abs_high = _mixture(
            fixed.absolute_effect, fixed.std_error**2, abs_tau2, 0.0, alpha, alternative=alternative
        )

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
        method=f"mSPRT always-valid test ({base_name}, {scale} scale"
        + ("" if alternative == "two-sided" else f", one-sided {alternative} than {null_value:g}")
        + ")",
        method_id="msprt",
        relative_statistic=None,
        relative_p_value=p if scale == "relative" else None,
        reliable=fixed.reliable and len(notes) == len(fixed.warnings),
        warnings=tuple(notes),
        p_value=p,
        ci_low=abs_low,
        ci_high=abs_high,
        relative_ci_low=rel_low,
        relative_ci_high=rel_high,
    )
    return SequentialResult(**fields, mixing_variance=tau2, looks=looks, fixed_horizon_p_value=fixed.p_value)
