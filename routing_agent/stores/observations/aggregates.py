"""Mergeable summaries the observation stores compute where the data lives, for the evaluator.

Statistics in an A/B test run on *units* (the randomization unit), not on calls. For one metric, unit ``i``
has ``x_i`` = the sum of its values and ``y_i`` = the number of its observations (or, for a paired metric such
as a ratio denominator or a CUPED covariate, the sum of that other metric's values). ``UnitAggregate`` holds
``n``, ``Σx``, ``Σx²``, ``Σy``, ``Σy²``, ``Σxy`` over the units of one variant: enough for the per-unit
mean and its variance, the ratio ``Σx/Σy`` with the delta method, and CUPED. ``LogHistogram`` is a mergeable
log-bucketed histogram (relative accuracy 1 %) for quantiles of non-negative metrics (latency, TTFT).
"""

from __future__ import annotations

__all__ = [
    "EXACT_INTEGER_LIMIT",
    "LogHistogram",
    "UnitAggregate",
    "UnitValue",
    "centred",
    "moved_sums",
    "pick_shifts",
]

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

HISTOGRAM_ACCURACY = 0.01
_GAMMA = (1 + HISTOGRAM_ACCURACY) / (1 - HISTOGRAM_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
_MIN_POSITIVE = 1e-9  # values at or below this (and negative values) count in the zero bucket


class UnitValue(NamedTuple):
    """One unit's total for a metric: ``value`` = sum of its observations, ``n_obs`` = how many."""

    variant: str
    unit_id: str
    value: float
    n_obs: int


EXACT_INTEGER_LIMIT = 4096.0
"""Per-unit values that are all integers up to this keep shift 0: their raw sums are exact (counts, 0/1)."""


def _small_integers(values: Sequence[float]) -> bool:
    return all(abs(v) <= EXACT_INTEGER_LIMIT and v == round(v) for v in values)


def pick_shifts(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """``(shift_x, shift_y)`` near the data: 0 for small integers (exact raw sums: counts, 0/1 outcomes),
    else ``Σx / Σy`` for ``x`` (the per-unit mean when ``y`` is 1) and the mean for ``y``."""
    shift_y = 0.0
    if ys and not _small_integers(ys):
        shift_y = math.fsum(ys) / len(ys)
    shift_x, total_y = 0.0, math.fsum(ys)
    if xs and total_y != 0 and not _small_integers(xs):
        shift_x = math.fsum(xs) / total_y
    return (shift_x if math.isfinite(shift_x) else 0.0), (shift_y if math.isfinite(shift_y) else 0.0)


def moved_sums(
    n: int, sums: tuple[float, float, float, float, float], dc: float, de: float, e: float
) -> tuple[float, float, float, float, float]:
    """``(Σu, Σu², Σw, Σw², Σuw)`` of ``u = x − c·y``, ``w = y − e`` re-taken around ``(c − dc, e − de)``.

    With ``k = dc·e``: ``u' = u + dc·w + k`` and ``w' = w + de`` (exact algebra; rounding only in the moves).
    """
    su, suu, sw, sww, suw = sums
    k = dc * e
    su2 = su + dc * sw + n * k
    suu2 = suu + dc * dc * sww + n * k * k + 2.0 * dc * suw + 2.0 * k * su + 2.0 * k * dc * sw
    sw2 = sw + n * de
    sww2 = sww + 2.0 * de * sw + n * de * de
    suw2 = suw + de * su + dc * sww + dc * de * sw + k * sw + n * k * de
    return su2, suu2, sw2, sww2, suw2


def centred(sum_ab: float, sum_a: float, sum_b: float, n: int) -> float:
    """``Σ(a − ā)(b − b̄)`` from (shifted) sums."""
    return sum_ab - sum_a * sum_b / n if n > 0 else 0.0


@dataclass(frozen=True, slots=True)
class UnitAggregate:
    """Sufficient statistics over the units of one variant (see the module docstring).

    The sums are *shifted* so the variance of 1e9-scale values keeps its digits: with ``u = x − shift_x·y``
    and ``w = y − shift_y``, ``sum_x = Σu``, ``sum_x2 = Σu²``, ``sum_y = Σw``, ``sum_y2 = Σw²`` and
    ``sum_xy = Σu·w``. ``shift_x`` is an offset per unit of ``y``: where ``y`` counts observations it is a
    per-observation shift (a plain shift of ``x`` when every unit has one observation), for a ratio the
    ratio's own size, so the delta method's ``x − R·y`` never cancels. Shifts 0 (the defaults, and what a
    backend with running raw totals gives) mean raw sums. ``total_x`` / ``total_y`` are the raw ``Σx`` /
    ``Σy``; ``x_moments`` the per-unit ``x`` around a shift near its mean.
    """

    n_units: int = 0
    n_obs: int = 0  # observations of the metric behind these units
    sum_x: float = 0.0
    sum_x2: float = 0.0
    sum_y: float = 0.0
    sum_y2: float = 0.0
    sum_xy: float = 0.0
    shift_x: float = 0.0
    shift_y: float = 0.0

    @property
    def _sums(self) -> tuple[float, float, float, float, float]:
        return self.sum_x, self.sum_x2, self.sum_y, self.sum_y2, self.sum_xy

    def recentered(self, shift_x: float, shift_y: float) -> UnitAggregate:
        """The same data with sums taken around ``(shift_x, shift_y)`` (exact up to rounding of the moves)."""
        if shift_x == self.shift_x and shift_y == self.shift_y:
            return self
        dc, de = self.shift_x - shift_x, self.shift_y - shift_y
        sums = moved_sums(self.n_units, self._sums, dc, de, self.shift_y)
        return UnitAggregate(self.n_units, self.n_obs, *sums, shift_x, shift_y)

    def __add__(self, other: UnitAggregate) -> UnitAggregate:
        if not isinstance(other, UnitAggregate):
            return NotImplemented
        base = self if self.n_units > 0 else other
        a = self.recentered(base.shift_x, base.shift_y)
        b = other.recentered(base.shift_x, base.shift_y)
        (su, suu, sw, sww, suw), (tu, tuu, tw, tww, tuw) = a._sums, b._sums
        return UnitAggregate(
            a.n_units + b.n_units, a.n_obs + b.n_obs, su + tu, suu + tuu, sw + tw, sww + tww, suw + tuw,
            base.shift_x, base.shift_y,
        )  # fmt: skip

    @classmethod
    def of(cls, pairs: list[tuple[float, float]], n_obs: int | None = None) -> UnitAggregate:
        """From per-unit ``(x, y)`` pairs, with shifts near the data (see ``pick_shifts``)."""
        c, e = pick_shifts([x for x, _ in pairs], [y for _, y in pairs])
        u = [x - c * y for x, y in pairs]
        w = [y - e for _, y in pairs]
        return cls(
            n_units=len(pairs),
            n_obs=int(sum(y for _, y in pairs)) if n_obs is None else n_obs,
            sum_x=math.fsum(u),
            sum_x2=math.fsum(d * d for d in u),
            sum_y=math.fsum(w),
            sum_y2=math.fsum(d * d for d in w),
            sum_xy=math.fsum(a * b for a, b in zip(u, w, strict=True)),
            shift_x=c,
            shift_y=e,
        )

    @property
    def x_moments(self) -> tuple[float, float, float]:
        """``(Σ(x − s), Σ(x − s)², s)`` of the per-unit ``x`` around ``s = shift_x · ȳ``."""
        n, c = self.n_units, self.shift_x
        if n == 0 or c == 0.0:
            return self.sum_x, self.sum_x2, 0.0
        cuw = centred(self.sum_xy, self.sum_x, self.sum_y, n)
        cww = centred(self.sum_y2, self.sum_y, self.sum_y, n)
        squares = self.sum_x2 + 2.0 * c * cuw + c * c * cww
        return self.sum_x, squares, c * self.total_y / n

    @property
    def total_x(self) -> float:
        """The raw ``Σx``."""
        return self.sum_x + self.shift_x * self.total_y

    @property
    def total_y(self) -> float:
        """The raw ``Σy``."""
        return self.sum_y + self.n_units * self.shift_y

    @property
    def mean(self) -> float:
        """Mean per-unit value ``Σx / n`` (nan without units)."""
        return self.total_x / self.n_units if self.n_units else math.nan

    @property
    def variance(self) -> float:
        """Sample variance (ddof=1) of the per-unit values (nan with fewer than 2 units)."""
        n = self.n_units
        if n < 2:
            return math.nan
        total, squares, _ = self.x_moments
        return max(centred(squares, total, total, n) / (n - 1), 0.0)

    @property
    def ratio(self) -> float:
        """``Σx / Σy``: e.g. the per-call mean when ``y`` counts calls (nan when ``Σy`` is 0)."""
        total_y = self.total_y
        return self.total_x / total_y if total_y else math.nan

    def approx_equal(self, other: UnitAggregate, rel: float = 1e-9) -> bool:
        """Equal up to floating-point summation order (compared around one common shift)."""
        o = other.recentered(self.shift_x, self.shift_y)
        n = max(self.n_units, 1)
        mean_y = abs(self.total_y) / n
        tol_x = 1e-9 * n * max(abs(self.shift_x) * max(mean_y, 1.0), 1.0)
        tol_y = 1e-9 * n * max(abs(self.shift_y), 1.0)
        pairs = (
            (self.sum_x, o.sum_x, tol_x),
            (self.sum_x2, o.sum_x2, tol_x),
            (self.sum_y, o.sum_y, tol_y),
            (self.sum_y2, o.sum_y2, tol_y),
            (self.sum_xy, o.sum_xy, max(tol_x, tol_y)),
        )
        return (
            self.n_units == other.n_units
            and self.n_obs == other.n_obs
            and all(math.isclose(a, b, rel_tol=rel, abs_tol=tol) for a, b, tol in pairs)
        )


def bucket_index(value: float) -> int | None:
    """The log bucket of a positive value (None for the zero bucket)."""
    if value <= _MIN_POSITIVE:
        return None
    return math.ceil(math.log(value) / _LOG_GAMMA)


@dataclass
class LogHistogram:
    """A mergeable log-bucketed histogram; ``quantile`` is within 1 % relative error for values > 0."""

    buckets: dict[int, int] = field(default_factory=dict)
    zero: int = 0
    count: int = 0
    total: float = 0.0
    min: float = math.inf
    max: float = -math.inf

    def add(self, value: float, times: int = 1) -> None:
        """Record ``value`` ``times`` times."""
        index = bucket_index(value)
        if index is None:
            self.zero += times
        else:
            self.buckets[index] = self.buckets.get(index, 0) + times
        self.count += times
        self.total += value * times
        self.min = min(self.min, value)
        self.max = max(self.max, value)

    def merge(self, other: LogHistogram) -> LogHistogram:
        """A new histogram holding both."""
        out = LogHistogram(dict(self.buckets), self.zero + other.zero, self.count + other.count)
        for index, n in other.buckets.items():
            out.buckets[index] = out.buckets.get(index, 0) + n
        out.total = self.total + other.total
        out.min = min(self.min, other.min)
        out.max = max(self.max, other.max)
        return out

    @classmethod
    def from_counts(
        cls, buckets: Mapping[int, int], zero: int, total: float, lo: float, hi: float
    ) -> LogHistogram:
        """Rebuild from stored bucket counts."""
        kept = {int(k): int(v) for k, v in buckets.items() if int(v) > 0}
        count = zero + sum(kept.values())
        return cls(kept, zero, count, total, lo if count else math.inf, hi if count else -math.inf)

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 ≤ q ≤ 1); nan when empty."""
        if self.count == 0:
            return math.nan
        rank = q * (self.count - 1)
        seen = self.zero
        if rank < seen:
            return max(self.min, 0.0) if self.min <= _MIN_POSITIVE else 0.0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if rank < seen:
                estimate = 2 * _GAMMA**index / (_GAMMA + 1)
                return min(max(estimate, self.min), self.max)
        return self.max

    @property
    def mean(self) -> float:
        """Mean of the recorded values (nan when empty)."""
        return self.total / self.count if self.count else math.nan
