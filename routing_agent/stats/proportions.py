"""Score-based inference for two proportions: valid at 0 % / 100 % rates and in small samples.

The Wald z test divides by the *observed* rates' variance, which is zero for an all-success arm: at
4,000/4,000 vs 3,960/4,000 its standard error comes from one arm only and its normal approximation is
poor. The Miettinen–Nurminen score test (Miettinen & Nurminen, "Comparative analysis of two rates",
Stat. Med. 4(2), 1985) uses the variance at the *restricted* maximum-likelihood rates under H0 instead, so
it stays valid at 0/1 rates and for any null value (a non-inferiority margin), and its confidence interval
is the set of null values it does not reject (so test and interval always agree).

=====================================  ==================================================================
function                               statsmodels reference (checked to 1e-9 in ``tests/stats``)
=====================================  ==================================================================
``score_test_proportions``             ``test_proportions_2indep(method="score")`` (``correction=True``)
``score_interval``                     ``confint_proportions_2indep(method="score")``
=====================================  ==================================================================

Conventions: arm order is (control, treatment); ``compare="diff"`` is ``p_t − p_c``, ``compare="ratio"``
is ``p_t / p_c``. ``alternative="larger"`` means H1: the comparison exceeds ``null_value``.
"""

from __future__ import annotations

__all__ = ["Compare", "restricted_rates", "score_interval", "score_test_proportions"]

import math
from typing import Literal, NamedTuple

from scipy import optimize, special

from routing_agent.stats.results import Alternative

Compare = Literal["diff", "ratio"]

_EPS = 1e-12


class _Counts(NamedTuple):
    x_c: float
    n_c: float
    x_t: float
    n_t: float


def _restricted_diff(k: _Counts, delta: float) -> tuple[float, float]:
    """MLE of (p_c, p_t) under ``p_t − p_c = delta`` (Miettinen–Nurminen's closed-form cubic root)."""
    x_c, n_c, x_t, n_t = k
    if delta == 0.0:
        pooled = (x_c + x_t) / (n_c + n_t)
        return pooled, pooled
    n, count = n_c + n_t, x_c + x_t
    a2 = (n_t + 2 * n_c) * delta - n - count
    a1 = (x_c * delta - n - 2 * x_c) * delta + count
    a0 = x_c * delta * (1 - delta)
    b = a2 / (3 * n)
    q = b**3 - a1 * a2 / (6 * n * n) + a0 / (2 * n)
    radicand = b * b - a1 / (3 * n)
    p_c = math.nan
    if radicand > 0:
        r = math.copysign(math.sqrt(radicand), q)
        cosine = max(-1.0, min(1.0, q / r**3)) if r != 0 else 0.0
        p_c = 2 * r * math.cos((math.pi + math.acos(cosine)) / 3) - b
    low, high = max(0.0, -delta), min(1.0, 1.0 - delta)
    if not (math.isfinite(p_c) and low - 1e-9 <= p_c <= high + 1e-9):
        p_c = _profile_maximum(k, delta, low, high)
    p_c = min(max(p_c, low), high)
    return p_c, min(max(p_c + delta, 0.0), 1.0)


def _restricted_ratio(k: _Counts, ratio: float) -> tuple[float, float]:
    """MLE of (p_c, p_t) under ``p_t / p_c = ratio`` (the quadratic root of Miettinen–Nurminen)."""
    x_c, n_c, x_t, n_t = k
    if ratio == 1.0:
        pooled = (x_c + x_t) / (n_c + n_t)
        return pooled, pooled
    n = n_c + n_t
    a = n * ratio
    b = -(n_t * ratio + x_t + n_c + x_c * ratio)
    c = x_c + x_t
    p_c = (-b - math.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a)
    p_c = min(max(p_c, 0.0), 1.0, 1.0 / ratio)
    return p_c, min(max(p_c * ratio, 0.0), 1.0)


def _profile_maximum(k: _Counts, delta: float, low: float, high: float) -> float:
    """Numerical fallback: the p_c in [low, high] maximising the likelihood under ``p_t = p_c + delta``."""

    def negative_loglik(p: float) -> float:
        total = 0.0
        for x, m, rate in ((k.x_c, k.n_c, p), (k.x_t, k.n_t, p + delta)):
            clipped = min(max(rate, _EPS), 1 - _EPS)
            total += x * math.log(clipped) + (m - x) * math.log1p(-clipped)
        return -total

    found = optimize.minimize_scalar(
        negative_loglik, bounds=(low, high), method="bounded", options={"xatol": 1e-13}
    )
    return float(found.x)


def restricted_rates(
    x_c: float, n_c: float, x_t: float, n_t: float, *, null_value: float, compare: Compare = "diff"
) -> tuple[float, float]:
    """The maximum-likelihood (control, treatment) rates under H0 ``comparison = null_value``."""
    k = _Counts(x_c, n_c, x_t, n_t)
    return _restricted_diff(k, null_value) if compare == "diff" else _restricted_ratio(k, null_value)


def _score_statistic(k: _Counts, value: float, compare: Compare) -> float:
    x_c, n_c, x_t, n_t = k
    p_c, p_t = x_c / n_c, x_t / n_t
    r_c, r_t = _restricted_diff(k, value) if compare == "diff" else _restricted_ratio(k, value)
    if compare == "diff":
        distance = p_t - p_c - value
        variance = r_t * (1 - r_t) / n_t + r_c * (1 - r_c) / n_c
    else:
        distance = p_t - value * p_c
        variance = r_t * (1 - r_t) / n_t + value * value * r_c * (1 - r_c) / n_c
    n = n_c + n_t
    variance *= n / (n - 1)  # Miettinen–Nurminen's small-sample correction
    if abs(distance) <= 1e-15:
        return 0.0
    if not variance > 0:
        return math.copysign(math.inf, distance)
    return distance / math.sqrt(variance)


def _check(x_c: float, n_c: float, x_t: float, n_t: float) -> None:
    for x, n, label in ((x_c, n_c, "control"), (x_t, n_t, "treatment")):
        if not (n > 0 and 0 <= x <= n and math.isfinite(x)):
            raise ValueError(f"{label} needs 0 <= successes <= units and units > 0, got {x} of {n}")


def score_test_proportions(
    x_c: float,
    n_c: float,
    x_t: float,
    n_t: float,
    *,
    null_value: float | None = None,
    compare: Compare = "diff",
    alternative: Alternative = "two-sided",
) -> tuple[float, float]:
    """Miettinen–Nurminen score test of ``p_t − p_c`` (or ``p_t / p_c``) against ``null_value``.

    Returns ``(statistic, p_value)``; the statistic is ``±inf`` (p = 0) when the restricted variance is 0
    and the data are off the null, and 0 (p = 1, or 0.5 one-sided) when they sit exactly on it.
    """
    _check(x_c, n_c, x_t, n_t)
    value = (0.0 if compare == "diff" else 1.0) if null_value is None else float(null_value)
    if compare == "ratio" and not value > 0:
        raise ValueError(f"a ratio null value must be positive, got {value}")
    if compare == "diff" and not -1 < value < 1:
        raise ValueError(f"a difference null value must be in (-1, 1), got {value}")
    z = _score_statistic(_Counts(x_c, n_c, x_t, n_t), value, compare)
    if alternative == "two-sided":
        p = 2.0 * float(special.ndtr(-abs(z)))
    elif alternative == "larger":
        p = float(special.ndtr(-z))
    else:
        p = float(special.ndtr(z))
    return z, min(1.0, p)


def _bound(k: _Counts, compare: Compare, z: float, side: Literal["low", "high"]) -> float:
    """The null value where the score statistic equals ``+z`` (lower bound) or ``−z`` (upper bound)."""
    p_c, p_t = k.x_c / k.n_c, k.x_t / k.n_t
    target = z if side == "low" else -z

    def f(v: float) -> float:
        return _score_statistic(k, v, compare) - target

    if compare == "diff":
        estimate, edge = p_t - p_c, (-1.0 if side == "low" else 1.0)
        if abs(estimate - edge) <= 1e-12:
            return edge
        far = edge * (1 - 1e-12)
        f_far = f(far)
        if (side == "low" and f_far < 0) or (side == "high" and f_far > 0):
            return edge
        lo, hi = (far, estimate) if side == "low" else (estimate, far)
        return float(optimize.brentq(f, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=500))
    if p_c == 0:
        return 0.0 if side == "low" else math.inf
    estimate = p_t / p_c
    if side == "low":  # bracket downwards by halving, on the ratio's log scale
        if estimate == 0:
            return 0.0
        hi, lo = estimate, estimate / 2
        while f(lo) < 0 and lo > 1e-300:
            hi, lo = lo, lo / 2
        return 0.0 if f(lo) < 0 else float(optimize.brentq(f, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=500))
    lo, hi = estimate, max(estimate * 2, 1e-300)
    while f(hi) > 0 and hi < 1e300:
        lo, hi = hi, hi * 2
    return math.inf if f(hi) > 0 else float(optimize.brentq(f, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=500))


def score_interval(
    x_c: float,
    n_c: float,
    x_t: float,
    n_t: float,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    compare: Compare = "diff",
) -> tuple[float, float]:
    """The score interval: the null values the score test does not reject at ``alpha``.

    Two-sided: ``[low, high]``; ``"larger"``: ``[low, +inf)``; ``"smaller"``: ``(-inf, high]``. For
    ``compare="ratio"`` it bounds ``p_t / p_c`` (``[0, inf)`` when control has no successes).
    """
    _check(x_c, n_c, x_t, n_t)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    two_sided = alternative == "two-sided"
    z = float(special.ndtri(1 - alpha / 2)) if two_sided else float(special.ndtri(1 - alpha))
    k = _Counts(x_c, n_c, x_t, n_t)
    low = _bound(k, compare, z, "low") if alternative != "smaller" else -math.inf
    high = _bound(k, compare, z, "high") if alternative != "larger" else math.inf
    return low, high
