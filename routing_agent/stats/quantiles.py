"""Quantiles of per-call values (p50/p95/p99 latency, TTFT) with unit-clustered CIs for the difference.

Method: the quantile delta method for clustered data (Deng, Knoblich & Lu, "Applying the Delta Method in
Metric Analytics", KDD 2018, section 4.3), chosen over a bootstrap because it is deterministic, costs two
extra partial sorts instead of a thousand resamples, and handles sessions with many correlated calls:

1. ``q̂`` = the p-quantile of all calls in the arm (numpy's default linear interpolation, one sort per arm).
2. ``F̂(q̂) = Σᵢ Sᵢ / Σᵢ nᵢ`` with ``Sᵢ`` = unit i's calls at or below ``q̂`` and ``nᵢ`` its calls is a ratio
   metric over units, so its standard error ``σ`` is the delta method over units (``ratio.py``).
3. The outer interval ``[Q̂(p − zσ), Q̂(p + zσ)]`` covers the quantile (Woodruff 1952); its width over
   ``2z`` is the quantile's standard error, with no density estimate.
4. The difference between arms is a z test with ``se = √(se_c² + se_t²)``; the relative lift uses the
   delta method like every other comparison.

Input: per-call values and, for each call, the unit it belongs to (``ClusteredValues``); 16 bytes per
call, so 3M calls take 48 MB. Quantiles are the one comparison that needs raw values rather than sums:
a fixed-bin sketch cannot give the per-unit cross terms of step 2 without O(units × bins) work.
The method is calibrated in ``evals/calibration.py`` and agrees with a fixed-seed cluster bootstrap in the
tests. Tails need data: fewer than ``MIN_TAIL_CALLS`` calls beyond the quantile mark the result unreliable.
"""

from __future__ import annotations

__all__ = [
    "MIN_TAIL_CALLS",
    "ClusteredValues",
    "QuantileEstimate",
    "QuantileResult",
    "compare_quantiles",
    "estimate_quantile",
]

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from routing_agent.stats.frequentist import MIN_UNITS_PER_ARM
from routing_agent.stats.results import Alternative, ArmEstimate, EffectResult, compare_arms
from routing_agent.stats.summaries import RatioSummary

MIN_TAIL_CALLS = 10
"""Calls needed on each side of the quantile (``N·min(p, 1 − p)``) for a reliable interval."""


def _dense_codes(units: np.ndarray) -> tuple[np.ndarray, int]:
    """Unit ids → codes 0..K−1. Integer ids that already fill a range skip the O(n log n) sort."""
    if units.size and np.issubdtype(units.dtype, np.integer):
        low = int(units.min())
        span = int(units.max()) - low + 1
        if span <= 2 * units.size:
            shifted = (units - low).astype(np.intp, copy=False)
            present = np.bincount(shifted, minlength=span) > 0
            if present.all():
                return shifted, span
            remap = np.cumsum(present) - 1
            return remap[shifted], int(present.sum())
    uniques, codes = np.unique(units, return_inverse=True)
    return codes.reshape(-1), int(uniques.size)


@dataclass(frozen=True, eq=False)
class ClusteredValues:
    """Per-call values with the unit (session/user) of each call. ``units`` may be any integer ids."""

    values: np.ndarray
    units: np.ndarray
    _codes: np.ndarray = field(init=False, repr=False)
    _n_units: int = field(init=False, repr=False)
    _calls: np.ndarray = field(init=False, repr=False)
    _sorted: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64).reshape(-1)
        units = np.asarray(self.units).reshape(-1)
        if values.shape != units.shape:
            raise ValueError("values and units need one entry per call each (same length)")
        codes, n_units = _dense_codes(units)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "_codes", codes)
        object.__setattr__(self, "_n_units", n_units)
        object.__setattr__(self, "_calls", np.bincount(codes, minlength=n_units).astype(np.float64))
        object.__setattr__(self, "_sorted", np.sort(values))

    @classmethod
    def from_groups(cls, groups: list[ArrayLike]) -> ClusteredValues:
        """One array of call values per unit."""
        arrays = [np.asarray(g, dtype=np.float64).reshape(-1) for g in groups]
        sizes = np.array([a.size for a in arrays], dtype=np.int64)
        values = np.concatenate(arrays) if arrays else np.empty(0)
        return cls(values, np.repeat(np.arange(len(arrays)), sizes))

    @classmethod
    def unclustered(cls, values: ArrayLike) -> ClusteredValues:
        """Every value is its own unit (request-level randomization)."""
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        return cls(v, np.arange(v.size))

    @property
    def n_calls(self) -> int:
        """Number of values."""
        return int(self.values.size)

    @property
    def n_units(self) -> int:
        """Number of distinct units."""
        return self._n_units

    def quantile(self, q: float) -> float:
        """The q-quantile with linear interpolation (``numpy.quantile``'s default), from one cached sort."""
        x = self._sorted
        if x.size == 0:
            return 0.0
        h = (x.size - 1) * min(max(q, 0.0), 1.0)
        low = math.floor(h)
        high = min(low + 1, x.size - 1)
        a, b, t = float(x[low]), float(x[high]), h - low
        return a + (b - a) * t if t < 0.5 else b - (b - a) * (1.0 - t)

    def tail_summary(self, threshold: float) -> RatioSummary:
        """Per-unit (calls ≤ threshold, calls) as a ratio summary: ``F̂(threshold)`` and its delta variance."""
        below = np.bincount(self._codes, weights=self.values <= threshold, minlength=self._n_units)
        return RatioSummary.from_values(below, self._calls)


@dataclass(frozen=True, kw_only=True, slots=True)
class QuantileEstimate:
    """One arm's quantile with its Woodruff interval and standard error."""

    q: float
    value: float
    std_error: float
    ci_low: float
    ci_high: float
    n_units: int
    n_calls: int
    warnings: tuple[str, ...] = ()

    def arm(self) -> ArmEstimate:
        """This estimate as an ``ArmEstimate`` (value, se², units), e.g. for ``sequential_test``."""
        return ArmEstimate(self.value, self.std_error**2, self.n_units)


def estimate_quantile(sample: ClusteredValues, q: float, *, alpha: float = 0.05) -> QuantileEstimate:
    """The q-quantile of ``sample`` with a unit-clustered (1 − alpha) interval and standard error."""
    notes: list[str] = []
    if sample.n_calls == 0:
        return QuantileEstimate(
            q=q, value=0.0, std_error=0.0, ci_low=0.0, ci_high=0.0, n_units=0, n_calls=0,
            warnings=("no values",),
        )  # fmt: skip
    if sample.n_units < MIN_UNITS_PER_ARM:
        notes.append(f"only {sample.n_units} units (< {MIN_UNITS_PER_ARM}): the interval is rough")
    tail = sample.n_calls * min(q, 1.0 - q)
    if tail < MIN_TAIL_CALLS:
        notes.append(f"about {tail:.0f} calls beyond the p{100 * q:g} (< {MIN_TAIL_CALLS}): too few")
    value = sample.quantile(q)
    sigma = math.sqrt(sample.tail_summary(value).variance_of_ratio)
    z = float(special.ndtri(1.0 - alpha / 2.0))
    lo_p, hi_p = q - z * sigma, q + z * sigma
    if lo_p < 0.0 or hi_p > 1.0:
        notes.append(f"the interval for p{100 * q:g} runs past the data's range: too few values")
    low, high = sample.quantile(lo_p), sample.quantile(hi_p)
    se = (high - low) / (2.0 * z)
    return QuantileEstimate(
        q=q, value=value, std_error=se, ci_low=float(low), ci_high=float(high),
        n_units=sample.n_units, n_calls=sample.n_calls, warnings=tuple(notes),
    )  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class QuantileResult(EffectResult):
    """An ``EffectResult`` for a quantile, plus each arm's own estimate and interval."""

    q: float
    control_estimate: QuantileEstimate
    treatment_estimate: QuantileEstimate


def compare_quantiles(
    control: ClusteredValues,
    treatment: ClusteredValues,
    *,
    q: float,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
) -> QuantileResult:
    """z test of ``quantile(treatment) − quantile(control)`` with unit-clustered standard errors."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be strictly between 0 and 1, got {q}")
    c = estimate_quantile(control, q, alpha=alpha)
    t = estimate_quantile(treatment, q, alpha=alpha)
    base = compare_arms(
        c.arm(),
        t.arm(),
        method=f"p{100 * q:g} difference, quantile delta method (clustered by unit)",
        alpha=alpha,
        alternative=alternative,
        warnings=tuple(f"control: {w}" for w in c.warnings) + tuple(f"treatment: {w}" for w in t.warnings),
    )
    fields = {name: getattr(base, name) for name in EffectResult.__dataclass_fields__}
    return QuantileResult(**fields, q=q, control_estimate=c, treatment_estimate=t)
