"""The result record every comparison returns, and the one place that turns two arm estimates into it.

Failures are data: a comparison never raises on data and never returns NaN. When an assumption fails
(zero variance, an all-success arm, a handful of units) the numbers that can still be computed are
returned, ``reliable`` is False and ``warnings`` says why. A zero standard error gives a statistic of
``±inf`` (``0`` when the effect is exactly the null) and a p-value of 0 or 1; ``to_json`` writes
non-finite numbers as ``null``.

One-sided alternatives get one-sided confidence bounds: ``alternative="larger"`` reports
``[low, +inf)``, ``"smaller"`` reports ``(-inf, high]``, so the interval and the test always agree.
"""

from __future__ import annotations

__all__ = ["Alternative", "ArmEstimate", "EffectResult", "Scale", "as_json", "compare_arms", "welch_df"]

import math
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Literal

from scipy import special

Alternative = Literal["two-sided", "larger", "smaller"]
"""``larger``: H1 is treatment − control > null; ``smaller``: H1 is treatment − control < null."""

Scale = Literal["absolute", "relative"]

INF = math.inf


@dataclass(frozen=True, slots=True)
class ArmEstimate:
    """One arm's point estimate, the variance of that estimate, and its number of units."""

    mean: float
    variance_of_mean: float
    n: int


@dataclass(frozen=True, kw_only=True, slots=True)
class EffectResult:
    """Treatment vs control: estimates, absolute and relative effect with CIs, test statistic and p-value.

    ``absolute_effect`` is ``treatment_mean − control_mean``; ``relative_effect`` is the lift
    ``(treatment_mean − control_mean) / |control_mean|`` (``t / c − 1`` for a positive control; on the
    magnitude so a negative-mean metric's lift keeps the sign of the change; None when the control mean is
    0), with a delta-method CI and its own test (``relative_statistic``, ``relative_p_value``: the lift
    against 0, or against ``null_value`` when ``null_scale="relative"``). ``null_value`` / ``null_scale``
    give the H0 boundary (non-zero for non-inferiority tests). ``method_id`` is the method's short name
    (``wald``, ``score``, ``welch``, ``z``, ``delta``, ``msprt``…) for code; ``method`` says it in words.
    """

    method: str
    control_mean: float
    treatment_mean: float
    control_n: int
    treatment_n: int
    absolute_effect: float
    std_error: float
    ci_low: float
    ci_high: float
    relative_effect: float | None
    relative_std_error: float | None
    relative_ci_low: float | None
    relative_ci_high: float | None
    statistic: float
    p_value: float
    alpha: float
    alternative: Alternative
    null_value: float = 0.0
    null_scale: Scale = "absolute"
    df: float | None = None
    reliable: bool = True
    warnings: tuple[str, ...] = ()
    method_id: str = ""
    relative_statistic: float | None = None
    relative_p_value: float | None = None

    @property
    def significant(self) -> bool:
        """``p_value < alpha``. Check ``reliable`` too before acting on it."""
        return self.p_value < self.alpha

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field plus ``significant`` (see ``as_json``)."""
        out = as_json(self)
        out["significant"] = self.significant
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _jsonable(getattr(value, f.name)) for f in fields(value) if not f.name.startswith("_")
        }
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def as_json(record: Any) -> dict[str, Any]:
    """Any stats record (results, plans, SRM, segments) as a JSON-ready dict.

    Nested records become dicts, tuples become lists and non-finite floats (a degenerate test's ``inf``)
    become None, so ``json.dumps`` output is strict JSON.
    """
    out = _jsonable(record)
    if not isinstance(out, dict):
        raise TypeError(f"expected a dataclass record, got {type(record).__name__}")
    return out


def welch_df(control: ArmEstimate, treatment: ArmEstimate) -> float | None:
    """Welch–Satterthwaite degrees of freedom (None when both variances are zero or an arm has n < 2)."""
    vc, vt = control.variance_of_mean, treatment.variance_of_mean
    if control.n < 2 or treatment.n < 2 or vc + vt <= 0:
        return None
    return (vc + vt) ** 2 / (vc * vc / (control.n - 1) + vt * vt / (treatment.n - 1))


def _critical(alpha: float, df: float | None) -> float:
    """Upper ``1 − alpha`` quantile of N(0, 1) or Student's t with ``df``."""
    if df is None:
        return float(special.ndtri(1.0 - alpha))
    return float(special.stdtrit(df, 1.0 - alpha))


def _sf(x: float, df: float | None) -> float:
    """P(Z > x) for N(0, 1) or Student's t."""
    if df is None:
        return float(special.ndtr(-x))
    return float(special.stdtr(df, -x))


def _p_value(statistic: float, alternative: Alternative, df: float | None) -> float:
    if alternative == "two-sided":
        return min(1.0, 2.0 * _sf(abs(statistic), df))
    if alternative == "larger":
        return _sf(statistic, df)
    return _sf(-statistic, df)


def _interval(
    estimate: float, se: float, alpha: float, alternative: Alternative, df: float | None
) -> tuple[float, float]:
    if alternative == "two-sided":
        half = _critical(alpha / 2.0, df) * se
        return estimate - half, estimate + half
    half = _critical(alpha, df) * se
    if alternative == "larger":
        return estimate - half, INF
    return -INF, estimate + half


def _statistic(delta: float, se: float) -> float:
    if se > 0 and math.isfinite(se):
        return delta / se
    return 0.0 if delta == 0 else math.copysign(INF, delta)


def compare_arms(
    control: ArmEstimate,
    treatment: ArmEstimate,
    *,
    method: str,
    alpha: float,
    alternative: Alternative = "two-sided",
    df: float | None = None,
    null_value: float = 0.0,
    null_scale: Scale = "absolute",
    test_std_error: float | None = None,
    warnings: tuple[str, ...] = (),
    method_id: str = "",
) -> EffectResult:
    """The shared engine: difference, delta-method relative lift, CIs, statistic and p-value.

    ``df=None`` uses the normal distribution, a number uses Student's t. ``test_std_error`` overrides the
    standard error used by the test statistic (the pooled two-proportion z test) while the CI keeps the
    unpooled one. With ``null_scale="relative"`` the test is on the relative lift (non-inferiority with a
    relative margin).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if alternative not in ("two-sided", "larger", "smaller"):
        raise ValueError(f"alternative must be 'two-sided', 'larger' or 'smaller', got {alternative!r}")
    notes = list(warnings)  # failed assumptions: each makes the result unreliable
    remarks: list[str] = []  # facts worth reporting that do not undermine the test
    values = (control.mean, treatment.mean, control.variance_of_mean, treatment.variance_of_mean)
    if not all(math.isfinite(v) for v in values):
        notes.append("non-finite input (NaN or inf in the data); nothing can be estimated")
        control = ArmEstimate(0.0, 0.0, control.n)
        treatment = ArmEstimate(0.0, 0.0, treatment.n)
    c, t = control.mean, treatment.mean
    vc, vt = max(control.variance_of_mean, 0.0), max(treatment.variance_of_mean, 0.0)
    diff = t - c
    se = math.sqrt(vc + vt)
    ci_low, ci_high = _interval(diff, se, alpha, alternative, df)

    rel = rel_se = rel_low = rel_high = rel_stat = rel_p = None
    if c != 0:
        rel = (t - c) / abs(c)
        rel_se = math.sqrt(vt / (c * c) + t * t * vc / c**4)
        rel_low, rel_high = _interval(rel, rel_se, alpha, alternative, df)
        rel_stat = _statistic(rel - (null_value if null_scale == "relative" else 0.0), rel_se)
        rel_p = _p_value(rel_stat, alternative, df)
        if c < 0:
            remarks.append(
                f"control mean is negative ({c:g}): the relative effect is the change over |control|, so "
                "+x % is an increase whatever the sign"
            )
    else:
        undefined = "control mean is 0: the relative effect is undefined"
        (notes if null_scale == "relative" else remarks).append(undefined)

    if null_scale == "relative":
        if rel is None or rel_se is None:
            statistic, test_se = 0.0, 0.0
        else:
            test_se = rel_se
            statistic = _statistic(rel - null_value, rel_se)
    else:
        test_se = se if test_std_error is None else test_std_error
        statistic = _statistic(diff - null_value, test_se)
    if not (test_se > 0 and math.isfinite(test_se)):
        notes.append("zero standard error (no variance in either arm): the test is degenerate")
    p_value = 1.0 if null_scale == "relative" and rel is None else _p_value(statistic, alternative, df)

    return EffectResult(
        method=method,
        control_mean=c,
        treatment_mean=t,
        control_n=control.n,
        treatment_n=treatment.n,
        absolute_effect=diff,
        std_error=se,
        ci_low=ci_low,
        ci_high=ci_high,
        relative_effect=rel,
        relative_std_error=rel_se,
        relative_ci_low=rel_low,
        relative_ci_high=rel_high,
        statistic=statistic,
        p_value=p_value,
        alpha=alpha,
        alternative=alternative,
        null_value=null_value,
        null_scale=null_scale,
        df=df,
        reliable=not notes,
        warnings=tuple(notes + remarks),
        method_id=method_id,
        relative_statistic=rel_stat,
        relative_p_value=rel_p,
    )
