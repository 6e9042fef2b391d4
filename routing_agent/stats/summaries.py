"""Mergeable sufficient statistics: what a store aggregates per variant so the evaluator never holds raw rows.

Each summary is a frozen dataclass of sums with ``__add__`` (merge two shards, or two batches of units), built
``from_values`` over per-unit numpy arrays or directly from a SQL ``GROUP BY`` / Redis hash:

============================  ===============================================================================
``SampleSummary``             ``n, Σy, Σy²`` of one per-unit value (a binary outcome, a score, a unit's cost)
``RatioSummary``              ``n, Σx, Σx², Σy, Σy², Σxy`` of a per-unit numerator *x* and denominator *y*
                              (cost per call: *x* = the unit's cost, *y* = the unit's calls)
``CovariateSummary``          ``n, Σy, Σy², Σx, Σx², Σxy`` of an outcome *y* and a pre-period covariate *x*
============================  ===============================================================================

Variances use ``n − 1``. Raw sums of squares cost about ``2·log10(|mean| / sd)`` of float64's 16 digits in the
variance (at values around 1e9 with sd 1 nothing is left), so ``SampleSummary`` keeps its sums *shifted*:
``sum`` and ``sum_squares`` are ``Σ(y − shift)`` and ``Σ(y − shift)²`` for a ``shift`` near the data.
``from_values`` shifts by the mean (the two-pass algorithm; integer data of modest size, such as 0/1
outcomes, keep ``shift = 0`` and exact counts), and ``+`` re-centres the other summary onto this one's shift
before adding (exact up to rounding of ``(b − a)``, small when both shifts sit near the data), so 1e9-scale
values give the same variance as the same values shifted to 1e0. ``total`` / ``total_squares`` are the raw
sums. Sums from a store (``SampleSummary(n, Σy, Σy²)``) have ``shift = 0`` and are only as precise as the
store's own sums. A variance that rounds below zero is clipped to zero, and the test then reports "zero
variance" instead of a wrong number.
"""

from __future__ import annotations

__all__ = ["CovariateSummary", "RatioSummary", "SampleSummary"]

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


def _as_1d(values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return array.reshape(-1)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``Σ a·b`` without BLAS: OpenBLAS threads ``ddot`` and stalls (100× slower) on a loaded machine."""
    return float(np.einsum("i,i->", a, b))


def _centered(sum_sq: float, sum_a: float, sum_b: float, n: int) -> float:
    """``Σ(a − ā)(b − b̄)`` from raw sums."""
    return sum_sq - sum_a * sum_b / n if n > 0 else 0.0


_EXACT_INTEGER_LIMIT = 4096.0
"""Integer data with ``|y|`` up to this keep ``shift = 0``: their sums are exact and lose little precision."""


def _shift_for(y: np.ndarray) -> float:
    if y.size == 0:
        return 0.0
    if float(np.max(np.abs(y))) <= _EXACT_INTEGER_LIMIT and bool(np.all(y == np.round(y))):
        return 0.0
    shift = float(np.mean(y))
    return shift if np.isfinite(shift) else 0.0


@dataclass(frozen=True, slots=True)
class SampleSummary:
    """``n``, ``Σ(y − shift)`` and ``Σ(y − shift)²`` of one value per unit (``shift`` 0: the raw sums).

    For a 0/1 outcome built ``from_counts`` (or ``from_values`` on 0/1 data) ``sum`` is the success count.
    """

    n: int
    sum: float
    sum_squares: float
    shift: float = 0.0

    @classmethod
    def from_values(cls, values: ArrayLike) -> SampleSummary:
        """Summarise one value per unit (shifted by their mean unless they are small integers)."""
        y = _as_1d(values)
        shift = _shift_for(y)
        d = y - shift if shift else y
        return cls(n=int(y.size), sum=float(d.sum()), sum_squares=_dot(d, d), shift=shift)

    @classmethod
    def from_counts(cls, successes: int, n: int) -> SampleSummary:
        """A binary outcome: ``successes`` ones among ``n`` units."""
        return cls(n=int(n), sum=float(successes), sum_squares=float(successes))

    @property
    def total(self) -> float:
        """The raw ``Σy`` (for a 0/1 outcome: the number of successes)."""
        return self.sum + self.n * self.shift

    @property
    def total_squares(self) -> float:
        """The raw ``Σy²``."""
        return self.sum_squares + 2.0 * self.shift * self.sum + self.n * self.shift * self.shift

    @property
    def mean(self) -> float:
        """Sample mean (0 when empty)."""
        return self.shift + self.sum / self.n if self.n > 0 else 0.0

    @property
    def variance(self) -> float:
        """Sample variance with ``n − 1`` (0 when ``n < 2``; never negative)."""
        if self.n < 2:
            return 0.0
        return max(_centered(self.sum_squares, self.sum, self.sum, self.n) / (self.n - 1), 0.0)

    @property
    def variance_of_mean(self) -> float:
        """``variance / n``: the squared standard error of the mean."""
        return self.variance / self.n if self.n > 0 else 0.0

    @property
    def is_binary(self) -> bool:
        """Whether the sums are consistent with 0/1 values (``Σy² = Σy`` and ``0 ≤ Σy ≤ n``)."""
        total, squares = self.total, self.total_squares
        return abs(squares - total) <= 1e-9 * max(1.0, abs(total)) and 0 <= total <= self.n

    def recentered(self, shift: float) -> SampleSummary:
        """The same data with sums taken around ``shift``."""
        if shift == self.shift:
            return self
        d = self.shift - shift
        return SampleSummary(
            self.n, self.sum + self.n * d, self.sum_squares + 2.0 * d * self.sum + self.n * d * d, shift
        )

    def __add__(self, other: SampleSummary) -> SampleSummary:
        if not isinstance(other, SampleSummary):
            return NotImplemented
        if self.n == 0:
            return other
        o = other.recentered(self.shift)
        return SampleSummary(self.n + o.n, self.sum + o.sum, self.sum_squares + o.sum_squares, self.shift)


@dataclass(frozen=True, slots=True)
class RatioSummary:
    """Per-unit numerator *x* and denominator *y* (e.g. a session's cost and its number of calls).

    The metric is ``Σx / Σy`` (cost per call); its variance comes from the delta method over units, so calls
    of one session are never treated as independent.
    """

    n: int
    numerator_sum: float
    numerator_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    cross_sum: float
    """``Σ x·y`` over units."""

    @classmethod
    def from_values(cls, numerators: ArrayLike, denominators: ArrayLike) -> RatioSummary:
        """Summarise one (numerator, denominator) pair per unit."""
        x, y = _as_1d(numerators), _as_1d(denominators)
        if x.shape != y.shape:
            raise ValueError("numerators and denominators need one value per unit each (same length)")
        return cls(
            n=int(x.size),
            numerator_sum=float(x.sum()),
            numerator_sum_squares=_dot(x, x),
            denominator_sum=float(y.sum()),
            denominator_sum_squares=_dot(y, y),
            cross_sum=_dot(x, y),
        )

    @property
    def numerator(self) -> SampleSummary:
        """The numerator's own summary."""
        return SampleSummary(self.n, self.numerator_sum, self.numerator_sum_squares)

    @property
    def denominator(self) -> SampleSummary:
        """The denominator's own summary."""
        return SampleSummary(self.n, self.denominator_sum, self.denominator_sum_squares)

    @property
    def covariance(self) -> float:
        """Sample covariance of numerator and denominator across units (``n − 1``)."""
        if self.n < 2:
            return 0.0
        centered = _centered(self.cross_sum, self.numerator_sum, self.denominator_sum, self.n)
        return centered / (self.n - 1)

    @property
    def ratio(self) -> float:
        """``Σx / Σy`` (0 when the denominator sums to 0)."""
        return self.numerator_sum / self.denominator_sum if self.denominator_sum != 0 else 0.0

    @property
    def variance_of_ratio(self) -> float:
        """Delta-method variance of ``Σx / Σy`` over units (Deng, Knoblich & Lu 2018, eq. 5)."""
        if self.n < 2 or self.denominator_sum == 0:
            return 0.0
        mean_y = self.denominator_sum / self.n
        r = self.ratio
        var = self.numerator.variance - 2 * r * self.covariance + r * r * self.denominator.variance
        return max(var, 0.0) / (self.n * mean_y * mean_y)

    def __add__(self, other: RatioSummary) -> RatioSummary:
        if not isinstance(other, RatioSummary):
            return NotImplemented
        return RatioSummary(
            self.n + other.n,
            self.numerator_sum + other.numerator_sum,
            self.numerator_sum_squares + other.numerator_sum_squares,
            self.denominator_sum + other.denominator_sum,
            self.denominator_sum_squares + other.denominator_sum_squares,
            self.cross_sum + other.cross_sum,
        )


@dataclass(frozen=True, slots=True)
class CovariateSummary:
    """Per-unit outcome *y* and pre-period covariate *x*, for CUPED.

    Units without a pre-period value should get the covariate's mean (or 0 plus a separate summary per
    "has history" segment); CUPED stays unbiased for any covariate fixed before assignment.
    """

    n: int
    sum: float
    sum_squares: float
    covariate_sum: float
    covariate_sum_squares: float
    cross_sum: float
    """``Σ x·y`` over units."""

    @classmethod
    def from_values(cls, outcomes: ArrayLike, covariates: ArrayLike) -> CovariateSummary:
        """Summarise one (outcome, covariate) pair per unit."""
        y, x = _as_1d(outcomes), _as_1d(covariates)
        if x.shape != y.shape:
            raise ValueError("outcomes and covariates need one value per unit each (same length)")
        return cls(
            n=int(y.size),
            sum=float(y.sum()),
            sum_squares=_dot(y, y),
            covariate_sum=float(x.sum()),
            covariate_sum_squares=_dot(x, x),
            cross_sum=_dot(x, y),
        )

    @property
    def outcome(self) -> SampleSummary:
        """The outcome's own summary (what an unadjusted test uses)."""
        return SampleSummary(self.n, self.sum, self.sum_squares)

    @property
    def covariate(self) -> SampleSummary:
        """The covariate's own summary."""
        return SampleSummary(self.n, self.covariate_sum, self.covariate_sum_squares)

    @property
    def centered_cross(self) -> float:
        """``Σ(x − x̄)(y − ȳ)``."""
        return _centered(self.cross_sum, self.covariate_sum, self.sum, self.n)

    @property
    def centered_covariate_squares(self) -> float:
        """``Σ(x − x̄)²``."""
        return max(_centered(self.covariate_sum_squares, self.covariate_sum, self.covariate_sum, self.n), 0.0)

    def __add__(self, other: CovariateSummary) -> CovariateSummary:
        if not isinstance(other, CovariateSummary):
            return NotImplemented
        return CovariateSummary(
            self.n + other.n,
            self.sum + other.sum,
            self.sum_squares + other.sum_squares,
            self.covariate_sum + other.covariate_sum,
            self.covariate_sum_squares + other.covariate_sum_squares,
            self.cross_sum + other.cross_sum,
        )
