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
sums. ``RatioSummary`` keeps ``x − ratio_shift·y`` (``ratio_shift`` near ``Σx/Σy``, so the delta method's
``x − R·y`` does not cancel either) and ``y − denominator_shift``; ``CovariateSummary`` shifts both columns.
Sums from a store (``SampleSummary(n, Σy, Σy²)``) have ``shift = 0`` and are only as precise as the
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


def _small_integers(y: np.ndarray) -> bool:
    return float(np.max(np.abs(y))) <= _EXACT_INTEGER_LIMIT and bool(np.all(y == np.round(y)))


def _shift_for(y: np.ndarray) -> float:
    if y.size == 0 or _small_integers(y):
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


def _cross_recentered(cross: float, sums: tuple[float, float], n: int, moves: tuple[float, float]) -> float:
    """``Σ(a − a')(b − b')`` from ``Σ(a − a₀)(b − b₀)``, ``sums = (Σ(a − a₀), Σ(b − b₀))``,
    ``moves = (a₀ − a', b₀ − b')``."""
    (sum_a, sum_b), (da, db) = sums, moves
    return cross + db * sum_a + da * sum_b + n * da * db


def _moved(sum_: float, squares: float, n: int, d: float) -> tuple[float, float]:
    return sum_ + n * d, squares + 2.0 * d * sum_ + n * d * d


def _ratio_shift(x: np.ndarray, y: np.ndarray) -> float:
    """``Σx / Σy`` unless ``x`` are small integers (exact raw sums) or ``Σy`` is 0."""
    if x.size == 0 or _small_integers(x):
        return 0.0
    total_y = float(y.sum())
    shift = float(x.sum()) / total_y if total_y != 0 else 0.0
    return shift if np.isfinite(shift) else 0.0


@dataclass(frozen=True, slots=True)
class RatioSummary:
    """Per-unit numerator *x* and denominator *y* (e.g. a session's cost and its number of calls).

    The metric is ``Σx / Σy`` (cost per call); its variance comes from the delta method over units, so calls
    of one session are never treated as independent. The sums are shifted so that neither 1e9-scale values
    nor the delta method's ``x − R·y`` cancel: with ``u = x − ratio_shift·y`` and
    ``w = y − denominator_shift``, ``numerator_sum = Σu``, ``numerator_sum_squares = Σu²``,
    ``denominator_sum = Σw``, ``denominator_sum_squares = Σw²``, ``cross_sum = Σu·w``; ``ratio_shift`` near
    the ratio makes ``u`` small. Shifts 0 (the defaults) mean raw sums. ``numerator_total`` /
    ``denominator_total`` are the raw ``Σx`` / ``Σy``.
    """

    n: int
    numerator_sum: float
    numerator_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    cross_sum: float
    """``Σ u·w`` over units (``Σ x·y`` with zero shifts)."""
    ratio_shift: float = 0.0
    denominator_shift: float = 0.0

    @classmethod
    def from_values(cls, numerators: ArrayLike, denominators: ArrayLike) -> RatioSummary:
        """Summarise one (numerator, denominator) pair per unit, with shifts near the data."""
        x, y = _as_1d(numerators), _as_1d(denominators)
        if x.shape != y.shape:
            raise ValueError("numerators and denominators need one value per unit each (same length)")
        c, e = _ratio_shift(x, y), _shift_for(y)
        u, w = x - c * y, y - e
        return cls(
            n=int(x.size),
            numerator_sum=float(u.sum()),
            numerator_sum_squares=_dot(u, u),
            denominator_sum=float(w.sum()),
            denominator_sum_squares=_dot(w, w),
            cross_sum=_dot(u, w),
            ratio_shift=c,
            denominator_shift=e,
        )

    @property
    def _cov_uw(self) -> float:
        return _centered(self.cross_sum, self.numerator_sum, self.denominator_sum, self.n)

    @property
    def _var_w(self) -> float:
        return _centered(self.denominator_sum_squares, self.denominator_sum, self.denominator_sum, self.n)

    @property
    def numerator(self) -> SampleSummary:
        """The numerator's own summary (around ``ratio_shift · ȳ``)."""
        c = self.ratio_shift
        if c == 0.0 or self.n == 0:
            return SampleSummary(self.n, self.numerator_sum, self.numerator_sum_squares)
        squares = self.numerator_sum_squares + 2.0 * c * self._cov_uw + c * c * self._var_w
        return SampleSummary(self.n, self.numerator_sum, squares, c * self.denominator_total / self.n)

    @property
    def denominator(self) -> SampleSummary:
        """The denominator's own summary."""
        return SampleSummary(
            self.n, self.denominator_sum, self.denominator_sum_squares, self.denominator_shift
        )

    @property
    def denominator_total(self) -> float:
        """The raw ``Σy``."""
        return self.denominator_sum + self.n * self.denominator_shift

    @property
    def numerator_total(self) -> float:
        """The raw ``Σx``."""
        return self.numerator_sum + self.ratio_shift * self.denominator_total

    @property
    def covariance(self) -> float:
        """Sample covariance of numerator and denominator across units (``n − 1``)."""
        if self.n < 2:
            return 0.0
        return (self._cov_uw + self.ratio_shift * self._var_w) / (self.n - 1)

    @property
    def ratio(self) -> float:
        """``Σx / Σy`` (0 when the denominator sums to 0)."""
        total_y = self.denominator_total
        return self.ratio_shift + self.numerator_sum / total_y if total_y != 0 else 0.0

    @property
    def variance_of_ratio(self) -> float:
        """Delta-method variance of ``Σx / Σy`` over units (Deng, Knoblich & Lu 2018, eq. 5).

        Computed as the variance of ``u − (R − ratio_shift)·y``, which equals that of ``x − R·y``.
        """
        total_y = self.denominator_total
        if self.n < 2 or total_y == 0:
            return 0.0
        mean_y = total_y / self.n
        b = self.numerator_sum / total_y  # R − ratio_shift
        var_u = _centered(self.numerator_sum_squares, self.numerator_sum, self.numerator_sum, self.n)
        residual = (var_u - 2 * b * self._cov_uw + b * b * self._var_w) / (self.n - 1)
        return max(residual, 0.0) / (self.n * mean_y * mean_y)

    def recentered(self, ratio_shift: float, denominator_shift: float) -> RatioSummary:
        """The same data with sums taken around the given shifts."""
        if (ratio_shift, denominator_shift) == (self.ratio_shift, self.denominator_shift):
            return self
        n, e = self.n, self.denominator_shift
        dc, de = self.ratio_shift - ratio_shift, e - denominator_shift
        su, suu, sw, sww, suw = (
            self.numerator_sum, self.numerator_sum_squares, self.denominator_sum,
            self.denominator_sum_squares, self.cross_sum,
        )  # fmt: skip
        k = dc * e  # u' = u + dc·w + k, w' = w + de
        return RatioSummary(
            n,
            su + dc * sw + n * k,
            suu + dc * dc * sww + n * k * k + 2.0 * dc * suw + 2.0 * k * su + 2.0 * k * dc * sw,
            sw + n * de,
            sww + 2.0 * de * sw + n * de * de,
            suw + de * su + dc * sww + dc * de * sw + k * sw + n * k * de,
            ratio_shift,
            denominator_shift,
        )

    def __add__(self, other: RatioSummary) -> RatioSummary:
        if not isinstance(other, RatioSummary):
            return NotImplemented
        if self.n == 0:
            return other
        o = other.recentered(self.ratio_shift, self.denominator_shift)
        return RatioSummary(
            self.n + o.n,
            self.numerator_sum + o.numerator_sum,
            self.numerator_sum_squares + o.numerator_sum_squares,
            self.denominator_sum + o.denominator_sum,
            self.denominator_sum_squares + o.denominator_sum_squares,
            self.cross_sum + o.cross_sum,
            self.ratio_shift,
            self.denominator_shift,
        )


@dataclass(frozen=True, slots=True)
class CovariateSummary:
    """Per-unit outcome *y* and pre-period covariate *x*, for CUPED (sums shifted as in ``RatioSummary``).

    Units without a pre-period value should get the covariate's mean (or 0 plus a separate summary per
    "has history" segment); CUPED stays unbiased for any covariate fixed before assignment.
    """

    n: int
    sum: float
    sum_squares: float
    covariate_sum: float
    covariate_sum_squares: float
    cross_sum: float
    """``Σ (x − covariate_shift)·(y − shift)`` over units."""
    shift: float = 0.0
    covariate_shift: float = 0.0

    @classmethod
    def from_values(cls, outcomes: ArrayLike, covariates: ArrayLike) -> CovariateSummary:
        """Summarise one (outcome, covariate) pair per unit."""
        y, x = _as_1d(outcomes), _as_1d(covariates)
        if x.shape != y.shape:
            raise ValueError("outcomes and covariates need one value per unit each (same length)")
        ky, kx = _shift_for(y), _shift_for(x)
        dy, dx = y - ky, x - kx
        return cls(
            n=int(y.size),
            sum=float(dy.sum()),
            sum_squares=_dot(dy, dy),
            covariate_sum=float(dx.sum()),
            covariate_sum_squares=_dot(dx, dx),
            cross_sum=_dot(dx, dy),
            shift=ky,
            covariate_shift=kx,
        )

    @property
    def outcome(self) -> SampleSummary:
        """The outcome's own summary (what an unadjusted test uses)."""
        return SampleSummary(self.n, self.sum, self.sum_squares, self.shift)

    @property
    def covariate(self) -> SampleSummary:
        """The covariate's own summary."""
        return SampleSummary(self.n, self.covariate_sum, self.covariate_sum_squares, self.covariate_shift)

    @property
    def covariate_total(self) -> float:
        """The raw ``Σx`` of the covariate."""
        return self.covariate_sum + self.n * self.covariate_shift

    @property
    def centered_cross(self) -> float:
        """``Σ(x − x̄)(y − ȳ)``."""
        return _centered(self.cross_sum, self.covariate_sum, self.sum, self.n)

    @property
    def centered_covariate_squares(self) -> float:
        """``Σ(x − x̄)²``."""
        return max(_centered(self.covariate_sum_squares, self.covariate_sum, self.covariate_sum, self.n), 0.0)

    def recentered(self, shift: float, covariate_shift: float) -> CovariateSummary:
        """The same data with sums taken around the given shifts."""
        if (shift, covariate_shift) == (self.shift, self.covariate_shift):
            return self
        dy, dx = self.shift - shift, self.covariate_shift - covariate_shift
        sy, syy = _moved(self.sum, self.sum_squares, self.n, dy)
        sx, sxx = _moved(self.covariate_sum, self.covariate_sum_squares, self.n, dx)
        cross = _cross_recentered(self.cross_sum, (self.covariate_sum, self.sum), self.n, (dx, dy))
        return CovariateSummary(self.n, sy, syy, sx, sxx, cross, shift, covariate_shift)

    def __add__(self, other: CovariateSummary) -> CovariateSummary:
        if not isinstance(other, CovariateSummary):
            return NotImplemented
        if self.n == 0:
            return other
        o = other.recentered(self.shift, self.covariate_shift)
        return CovariateSummary(
            self.n + o.n,
            self.sum + o.sum,
            self.sum_squares + o.sum_squares,
            self.covariate_sum + o.covariate_sum,
            self.covariate_sum_squares + o.covariate_sum_squares,
            self.cross_sum + o.cross_sum,
            self.shift,
            self.covariate_shift,
        )
