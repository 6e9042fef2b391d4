"""CUPED: variance reduction with a pre-period covariate (Deng, Xu, Kohavi & Walker, WSDM 2013).

Each unit has an outcome *y* and a covariate *x* fixed before assignment (the unit's pre-period value of the
metric, or the session's pre-experiment baseline the YAML names). The adjusted outcome is
``y − θ(x − x̄)`` with ``θ = Σₖ Sxyₖ / Σₖ Sxxₖ``, the within-arm pooled slope, so the effect estimate is
exactly the treatment coefficient of the ANCOVA regression ``y ~ 1 + treatment + x`` (statsmodels OLS,
checked in the tests). Each arm's variance is that of its residuals ``y − θx``; the test is Welch's t on
the adjusted means. The variance of the effect shrinks by about ``ρ²`` (ρ = corr(x, y)), so the required
sample size shrinks by the same factor; ``variance_reduction`` reports the share achieved.
"""

from __future__ import annotations

__all__ = ["CupedResult", "cuped"]

from dataclasses import dataclass

from routing_agent.stats.frequentist import mean_arm
from routing_agent.stats.results import Alternative, ArmEstimate, EffectResult, compare_arms, welch_df
from routing_agent.stats.summaries import CovariateSummary


@dataclass(frozen=True, kw_only=True, slots=True)
class CupedResult(EffectResult):
    """An ``EffectResult`` on CUPED-adjusted means, plus θ and the variance reduction achieved."""

    theta: float
    variance_reduction: float
    """``1 − Var(adjusted effect) / Var(unadjusted effect)``; about ρ² of outcome and covariate."""
    unadjusted_std_error: float


def _adjusted_arm(s: CovariateSummary, theta: float, pooled_x: float) -> ArmEstimate:
    syy = s.outcome.variance * (s.n - 1) if s.n > 1 else 0.0
    residual_ss = syy - 2.0 * theta * s.centered_cross + theta * theta * s.centered_covariate_squares
    var = max(residual_ss, 0.0) / (s.n - 1) if s.n > 1 else 0.0
    mean = s.outcome.mean - theta * (s.covariate.mean - pooled_x)
    return ArmEstimate(mean, var / s.n if s.n > 0 else 0.0, s.n)


def cuped(
    control: CovariateSummary,
    treatment: CovariateSummary,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
) -> CupedResult:
    """Welch's t test on CUPED-adjusted per-unit means."""
    raw_c, c_notes = mean_arm(control.outcome, "control")
    raw_t, t_notes = mean_arm(treatment.outcome, "treatment")
    remarks: list[str] = []
    sxx = control.centered_covariate_squares + treatment.centered_covariate_squares
    if sxx > 0:
        theta = (control.centered_cross + treatment.centered_cross) / sxx
    else:
        theta = 0.0
        remarks.append("the covariate has no variance: CUPED falls back to the unadjusted test")
    n = control.n + treatment.n
    pooled_x = (control.covariate_total + treatment.covariate_total) / n if n > 0 else 0.0
    c_arm = _adjusted_arm(control, theta, pooled_x)
    t_arm = _adjusted_arm(treatment, theta, pooled_x)
    base = compare_arms(
        c_arm,
        t_arm,
        method="CUPED (pre-period covariate) + Welch's t test",
        alpha=alpha,
        alternative=alternative,
        df=welch_df(c_arm, t_arm),
        warnings=tuple(c_notes + t_notes),
    )
    raw_var = raw_c.variance_of_mean + raw_t.variance_of_mean
    adj_var = c_arm.variance_of_mean + t_arm.variance_of_mean
    reduction = 1.0 - adj_var / raw_var if raw_var > 0 else 0.0
    fields = {name: getattr(base, name) for name in EffectResult.__dataclass_fields__}
    fields["warnings"] = base.warnings + tuple(remarks)
    return CupedResult(**fields, theta=theta, variance_reduction=reduction, unadjusted_std_error=raw_var**0.5)
