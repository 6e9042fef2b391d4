"""Quantiles from a mergeable histogram plus unit-clustered tail counts: p95 latency without raw values.

``quantiles.py`` computes the clustered quantile delta method from per-call values. Stores that keep
aggregates only (Redis) or that should not ship every value to the evaluator answer two small queries instead:

1. the arm's log-bucketed histogram (``LogHistogram``, 1 % relative accuracy) gives ``Q̂(p)`` for any p;
2. ``tail_aggregates`` at ``q̂ = Q̂(q)`` gives, per unit, the calls at or below ``q̂`` and all its calls, summed
   over units as a ``RatioSummary``: ``F̂(q̂) = Σ Sᵢ / Σ nᵢ`` and its delta-method variance over units.

The rest is the same Woodruff step as ``estimate_quantile``: with ``σ`` the clustered standard error of
``F̂``, the interval is ``[Q̂(q − zσ), Q̂(q + zσ)]`` and its width over ``2z`` the quantile's standard error.
The histogram's bucket width adds a rounding error, uniform over one bucket: its variance
``(value · resolution)² / 12`` is added, so the standard error never collapses to 0 on huge samples.
Agrees with ``estimate_quantile`` on the raw values to within the bucket rounding (``tests/stats``).
"""

from __future__ import annotations

__all__ = ["estimate_quantile_from_sketch"]

import math
from collections.abc import Callable

from scipy import special

from routing_agent.stats.frequentist import MIN_UNITS_PER_ARM
from routing_agent.stats.quantiles import MIN_TAIL_CALLS, QuantileEstimate
from routing_agent.stats.summaries import RatioSummary

DEFAULT_RESOLUTION = 0.0202
"""Relative width of one bucket of the stores' ``LogHistogram`` (γ − 1 with γ = 1.01 / 0.99)."""


def estimate_quantile_from_sketch(
    quantile: Callable[[float], float],
    tail: RatioSummary,
    *,
    q: float,
    alpha: float = 0.05,
    resolution: float = DEFAULT_RESOLUTION,
) -> QuantileEstimate:
    """The q-quantile with a unit-clustered interval, from a histogram's inverse CDF and tail counts.

    ``quantile(p)`` is the histogram's p-quantile; ``tail`` holds, per unit, the calls at or below
    ``quantile(q)`` (numerator) and all its calls (denominator).
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be strictly between 0 and 1, got {q}")
    n_calls, n_units = round(tail.denominator_total), tail.n
    if n_calls == 0:
        return QuantileEstimate(
            q=q, value=0.0, std_error=0.0, ci_low=0.0, ci_high=0.0, n_units=0, n_calls=0,
            warnings=("no values",),
        )  # fmt: skip
    notes: list[str] = []
    if n_units < MIN_UNITS_PER_ARM:
        notes.append(f"only {n_units} units (< {MIN_UNITS_PER_ARM}): the interval is rough")
    if n_calls * min(q, 1.0 - q) < MIN_TAIL_CALLS:
        notes.append(
            f"about {n_calls * min(q, 1.0 - q):.0f} calls beyond the p{100 * q:g} (< {MIN_TAIL_CALLS})"
        )
    value = float(quantile(q))
    sigma = math.sqrt(tail.variance_of_ratio)
    z = float(special.ndtri(1.0 - alpha / 2.0))
    lo_p, hi_p = q - z * sigma, q + z * sigma
    if lo_p < 0.0 or hi_p > 1.0:
        notes.append(f"the interval for p{100 * q:g} runs past the data's range: too few values")
    low, high = float(quantile(max(lo_p, 0.0))), float(quantile(min(hi_p, 1.0)))
    rounding = abs(value) * resolution
    se = math.sqrt(((high - low) / (2.0 * z)) ** 2 + rounding * rounding / 12.0)
    return QuantileEstimate(
        q=q, value=value, std_error=se, ci_low=low - rounding / 2.0, ci_high=high + rounding / 2.0,
        n_units=n_units, n_calls=n_calls, warnings=tuple(notes),
    )  # fmt: skip
