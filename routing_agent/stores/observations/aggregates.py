"""Mergeable summaries the observation stores compute where the data lives, for the evaluator.

Statistics in an A/B test run on *units* (the randomization unit), not on calls. For one metric, unit ``i``
has ``x_i`` = the sum of its values and ``y_i`` = the number of its observations (or, for a paired metric such
as a ratio denominator or a CUPED covariate, the sum of that other metric's values). ``UnitAggregate`` holds
``n``, ``Σx``, ``Σx²``, ``Σy``, ``Σy²``, ``Σxy`` over the units of one variant: enough for the per-unit
mean and its variance, the ratio ``Σx/Σy`` with the delta method, and CUPED. ``LogHistogram`` is a mergeable
log-bucketed histogram (relative accuracy 1 %) for quantiles of non-negative metrics (latency, TTFT).
"""

from __future__ import annotations

__all__ = ["LogHistogram", "UnitAggregate", "UnitValue"]

import math
from collections.abc import Mapping
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


@dataclass(frozen=True, slots=True)
class UnitAggregate:
    """Sufficient statistics over the units of one variant (see the module docstring)."""

    n_units: int = 0
    n_obs: int = 0  # observations of the metric behind these units
    sum_x: float = 0.0
    sum_x2: float = 0.0
    sum_y: float = 0.0
    sum_y2: float = 0.0
    sum_xy: float = 0.0

    def __add__(self, other: UnitAggregate) -> UnitAggregate:
        return UnitAggregate(
            self.n_units + other.n_units,
            self.n_obs + other.n_obs,
            self.sum_x + other.sum_x,
            self.sum_x2 + other.sum_x2,
            self.sum_y + other.sum_y,
            self.sum_y2 + other.sum_y2,
            self.sum_xy + other.sum_xy,
        )

    @classmethod
    def of(cls, pairs: list[tuple[float, float]], n_obs: int | None = None) -> UnitAggregate:
        """From per-unit ``(x, y)`` pairs."""
        return cls(
            n_units=len(pairs),
            n_obs=int(sum(y for _, y in pairs)) if n_obs is None else n_obs,
            sum_x=math.fsum(x for x, _ in pairs),
            sum_x2=math.fsum(x * x for x, _ in pairs),
            sum_y=math.fsum(y for _, y in pairs),
            sum_y2=math.fsum(y * y for _, y in pairs),
            sum_xy=math.fsum(x * y for x, y in pairs),
        )

    @property
    def mean(self) -> float:
        """Mean per-unit value ``Σx / n`` (nan without units)."""
        return self.sum_x / self.n_units if self.n_units else math.nan

    @property
    def variance(self) -> float:
        """Sample variance (ddof=1) of the per-unit values (nan with fewer than 2 units)."""
        n = self.n_units
        if n < 2:
            return math.nan
        return max((self.sum_x2 - self.sum_x * self.sum_x / n) / (n - 1), 0.0)

    @property
    def ratio(self) -> float:
        """``Σx / Σy``: e.g. the per-call mean when ``y`` counts calls (nan when ``Σy`` is 0)."""
        return self.sum_x / self.sum_y if self.sum_y else math.nan

    def approx_equal(self, other: UnitAggregate, rel: float = 1e-9) -> bool:
        """Equal up to floating-point summation order."""
        pairs = (
            (self.sum_x, other.sum_x),
            (self.sum_x2, other.sum_x2),
            (self.sum_y, other.sum_y),
            (self.sum_y2, other.sum_y2),
            (self.sum_xy, other.sum_xy),
        )
        return (
            self.n_units == other.n_units
            and self.n_obs == other.n_obs
            and all(math.isclose(a, b, rel_tol=rel, abs_tol=1e-12) for a, b in pairs)
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
