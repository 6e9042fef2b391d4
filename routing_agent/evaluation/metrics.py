"""From the observation store's per-unit aggregates to the statistics engine's inputs.

The store sums each metric per unit (the unit of randomization) and then per variant, so the evaluator
reads seven numbers per variant (``UnitAggregate``), never raw rows. How a metric is read — its *shape* —
follows from what it measures, and every shape is analysed per unit:

===================  =====================================================  ================================
shape                when                                                   estimate (stats function)
===================  =====================================================  ================================
``per_unit``         one observation per unit in every arm (``resolved``)   per-unit mean: two-proportion z
                                                                            (0/1 values) or Welch's t
``per_unit_total``   additive metrics (cost, tokens, calls): unit's sum     mean total per unit: Welch's t
``per_observation``  several observations per unit (latency per call,       ``Σ values / Σ observations``,
                     refusal per call, a score per output)                  delta method over units
``ratio``            ``kind: ratio`` with a ``denominator`` metric          ``Σx / Σy``, delta method
===================  =====================================================  ================================

The aggregates' sums are shifted near the data (``UnitAggregate``), so 1e9-scale values keep their variance.
A backend whose sums are raw running totals cannot: ``MetricData.precision_issue`` estimates the rounding
error of each arm's variance (``variance_rounding``) and, above ``PRECISION_LIMIT`` (1e-6 relative), every
comparison on that metric is reported unreliable with a warning naming the metric and the cause (traffic
never moves on an unreliable test; a guardrail is not judged on it).

Quantiles (``statistic: p95``) come from the store's histogram and its per-unit tail counts
(``routing_agent.stats.sketch_quantiles``), again clustered by unit.
"""

from __future__ import annotations

__all__ = [
    "PRECISION_LIMIT",
    "MetricData",
    "Shape",
    "load_covariate",
    "load_metric",
    "load_quantiles",
    "variance_rounding",
]

import math
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from routing_agent.evaluation.settings import ADDITIVE_METRICS
from routing_agent.stats import (
    CovariateSummary,
    EffectResult,
    QuantileEstimate,
    RatioSummary,
    SampleSummary,
    SequentialResult,
    compare_means,
    compare_proportions,
    compare_ratios,
    non_inferiority,
    sequential_test,
)
from routing_agent.stats.results import Alternative, ArmEstimate, Scale
from routing_agent.stats.sketch_quantiles import estimate_quantile_from_sketch
from routing_agent.stores.observations.aggregates import LogHistogram, UnitAggregate, centred
from routing_agent.stores.observations.base import ObservationStore, Segment

Shape = Literal["per_unit", "per_unit_total", "per_observation", "ratio"]
Direction = Literal["increase", "decrease"]
_Result = TypeVar("_Result", bound=EffectResult)


def _ratio(agg: UnitAggregate) -> RatioSummary:
    return RatioSummary(
        agg.n_units, agg.sum_x, agg.sum_x2, agg.sum_y, agg.sum_y2, agg.sum_xy, agg.shift_x, agg.shift_y
    )


def _per_unit(agg: UnitAggregate) -> SampleSummary:
    total, squares, shift = agg.x_moments
    return SampleSummary(agg.n_units, total, squares, shift)


def _ratio_rounding(agg: UnitAggregate) -> float:
    """Relative rounding error of the delta method's ``Var(x − R·y)`` from the aggregate's sums."""
    n = agg.n_units
    total_y = agg.total_y
    if n < 2 or total_y == 0:
        return 0.0
    b = agg.sum_x / total_y
    var_u = centred(agg.sum_x2, agg.sum_x, agg.sum_x, n)
    cov = centred(agg.sum_xy, agg.sum_x, agg.sum_y, n)
    var_w = centred(agg.sum_y2, agg.sum_y, agg.sum_y, n)
    residual = var_u - 2.0 * b * cov + b * b * var_w
    magnitude = abs(agg.sum_x2) + 2.0 * abs(b * agg.sum_xy) + b * b * abs(agg.sum_y2)
    if magnitude == 0.0:
        return 0.0
    return _EPSILON * magnitude / residual if residual > 0 else math.inf


_EPSILON = 2.220446049250313e-16  # float64 machine epsilon
PRECISION_LIMIT = 1e-6
"""Largest relative rounding error of a variance the evaluator trusts (see ``variance_rounding``)."""
_EXACT = 2.0**53  # integer-valued sums below this are exact in float64


def variance_rounding(n: int, total: float, squares: float, magnitude: float | None = None) -> float:
    """Relative rounding error of the variance computed from (shifted) sums ``Σd`` and ``Σd²``.

    ``Σd² − (Σd)²/n`` loses about ``ε · Σd² / n`` per unit to rounding, so relative to the variance the error
    is about ``ε · Σd² / Σ(d − d̄)²``: 1 when the sums are taken around the mean, ``ε · mean² / var`` for raw
    sums (about 2e2 for values near 1e9 with sd 1). Exact integer sums (counts, 0/1 outcomes) give 0; a
    variance that cancels to zero from non-integer sums gives ``inf``. ``magnitude`` (default ``squares``)
    is the size of the terms ``squares`` was itself assembled from, when it was.
    """
    if n < 2 or squares == 0.0:
        return 0.0
    if all(v == round(v) and abs(v) < _EXACT for v in (total, squares)):
        return 0.0
    centered = squares - total * total / n
    size = squares if magnitude is None else max(magnitude, squares)
    return _EPSILON * size / centered if centered > 0 else math.inf


@dataclass(frozen=True)
class MetricData:
    """One metric's per-variant aggregates and the shape they are read with."""

    name: str
    shape: Shape
    aggregates: dict[str, UnitAggregate]
    binary: bool = False
    denominator: str | None = None

    def has(self, variant: str) -> bool:
        """Whether the variant has at least one unit with the metric."""
        agg = self.aggregates.get(variant)
        return agg is not None and agg.n_units > 0

    def n(self, variant: str) -> int:
        """Units of the variant with the metric."""
        agg = self.aggregates.get(variant)
        return agg.n_units if agg is not None else 0

    def n_obs(self, variant: str) -> int:
        """Observations of the metric behind those units."""
        agg = self.aggregates.get(variant)
        return agg.n_obs if agg is not None else 0

    def summary(self, variant: str) -> SampleSummary | RatioSummary:
        """The stats engine's input for the variant (an empty summary when absent)."""
        agg = self.aggregates.get(variant, UnitAggregate())
        if self.shape in ("per_unit", "per_unit_total"):
            return _per_unit(agg)
        return _ratio(agg)

    def precision_issue(self, variant: str) -> str | None:
        """Why the variant's variance cannot be trusted to ``PRECISION_LIMIT`` (None when it can).

        A backend that keeps raw running sums (no shift) loses the variance of values far from 0 to rounding
        (values around 1e9 with sd 1 keep no digit of it); the comparison is then reported unreliable.
        """
        agg = self.aggregates.get(variant)
        if agg is None or agg.n_units < 2:
            return None
        if self.shape in ("per_observation", "ratio"):
            error, what = _ratio_rounding(agg), "the delta method's variance"
        else:
            total, squares, _ = agg.x_moments
            c, n = agg.shift_x, agg.n_units
            magnitude = agg.sum_x2 + abs(2.0 * c * centred(agg.sum_xy, agg.sum_x, agg.sum_y, n))
            magnitude += c * c * abs(centred(agg.sum_y2, agg.sum_y, agg.sum_y, n))
            error = variance_rounding(n, total, squares, magnitude)
            what = "the variance of the per-unit values"
        if error <= PRECISION_LIMIT:
            return None
        near = agg.ratio if self.shape in ("per_observation", "ratio") else agg.mean
        size = "all of" if not math.isfinite(error) or error >= 1 else f"about {error:.0e} of"
        return (
            f"{self.name} in {variant}: floating-point rounding in the store's sums takes {size} {what} "
            f"(values near {near:.6g} are far from 0 relative to their spread and the store keeps "
            "unshifted sums): the comparison is unreliable"
        )

    def guarded(self, result: _Result, *variants: str) -> _Result:
        """``result`` marked unreliable, with the reason, when an arm's variance is lost to rounding."""
        issues = [i for v in variants if (i := self.precision_issue(v)) is not None]
        if not issues:
            return result
        return replace(result, reliable=False, warnings=(*result.warnings, *issues))

    @property
    def proportion(self) -> bool:
        """Per-unit 0/1 outcomes: compared with the two-proportion z test."""
        if self.shape != "per_unit" or not self.binary:
            return False
        return all(_per_unit(a).is_binary for a in self.aggregates.values())

    def value(self, variant: str) -> float | None:
        """The variant's point estimate (None without units)."""
        if not self.has(variant):
            return None
        summary = self.summary(variant)
        return summary.ratio if isinstance(summary, RatioSummary) else summary.mean

    def arm(self, variant: str) -> ArmEstimate:
        """Point estimate, variance of the estimate and units."""
        summary = self.summary(variant)
        if isinstance(summary, RatioSummary):
            return ArmEstimate(summary.ratio, summary.variance_of_ratio, summary.n)
        if self.proportion:
            p = summary.mean
            return ArmEstimate(p, p * (1 - p) / summary.n if summary.n else 0.0, summary.n)
        return ArmEstimate(summary.mean, summary.variance_of_mean, summary.n)

    @property
    def method_kind(self) -> Literal["proportion", "mean"]:
        """How the sequential and non-inferiority tests read per-unit summaries."""
        return "proportion" if self.proportion else "mean"

    def compare(
        self, control: str, test: str, *, alpha: float, alternative: Alternative = "two-sided"
    ) -> EffectResult:
        """The fixed-horizon test of test − control for this shape."""
        c, t = self.summary(control), self.summary(test)
        if isinstance(c, RatioSummary) and isinstance(t, RatioSummary):
            result = compare_ratios(c, t, alpha=alpha, alternative=alternative)
        else:
            assert isinstance(c, SampleSummary) and isinstance(t, SampleSummary)
            if self.proportion:
                result = compare_proportions(c, t, alpha=alpha, alternative=alternative)
            else:
                result = compare_means(c, t, alpha=alpha, alternative=alternative)
        return self.guarded(result, control, test)

    def non_inferiority(
        self, control: str, test: str, *, margin: float, relative: bool, direction: Direction, alpha: float
    ) -> EffectResult:
        """The one-sided non-inferiority test of test against control."""
        result = non_inferiority(
            self.summary(control), self.summary(test), margin=margin, relative=relative,
            direction=direction, kind=self.method_kind, alpha=alpha,
        )  # fmt: skip
        return self.guarded(result, control, test)

    def sequential(
        self,
        control: str,
        test: str,
        *,
        alpha: float,
        horizon_units: int,
        previous: SequentialResult | None = None,
        scale: Scale = "absolute",
        null_value: float = 0.0,
        alternative: Alternative = "two-sided",
    ) -> SequentialResult:
        """The always-valid mSPRT of test − control (for looks before and after the planned sample);
        one-sided against ``null_value`` for the non-inferiority primary."""
        c, t = self.summary(control), self.summary(test)
        result = sequential_test(
            c, t, alpha=alpha, kind=self.method_kind, scale=scale, null_value=null_value,
            horizon_units=max(horizon_units, 2), previous=previous, alternative=alternative,
        )  # fmt: skip
        return self.guarded(result, control, test)


def shape_for(name: str, aggregates: dict[str, UnitAggregate], denominator: str | None) -> Shape:
    """The shape a metric is read with (see the module docstring)."""
    if denominator is not None:
        return "ratio"
    if name in ADDITIVE_METRICS:
        return "per_unit_total"
    if all(a.n_obs == a.n_units for a in aggregates.values()):
        return "per_unit"
    return "per_observation"


def load_metric(
    store: ObservationStore,
    experiment: str,
    name: str,
    *,
    agent: str | None = None,
    denominator: str | None = None,
    segment: Segment | None = None,
    binary: bool = False,
    shape: Shape | None = None,
) -> MetricData:
    """Read one metric's per-variant aggregates from the store (one query per variant at most)."""
    raw = store.unit_aggregates(experiment, name, denominator=denominator, agent=agent, segment=segment)
    aggregates = {v: a for v, a in raw.items() if a.n_units > 0}
    return MetricData(
        name=name,
        shape=shape or shape_for(name, aggregates, denominator),
        aggregates=aggregates,
        binary=binary,
        denominator=denominator,
    )


def load_covariate(
    store: ObservationStore, experiment: str, name: str, covariate: str, *, agent: str | None = None
) -> dict[str, CovariateSummary]:
    """Per-variant (outcome, pre-period covariate) sums over units, for CUPED."""
    paired = store.unit_aggregates(experiment, name, denominator=covariate, agent=agent)
    return {v: _covariate_summary(a) for v, a in paired.items() if a.n_units > 0}


def _covariate_summary(a: UnitAggregate) -> CovariateSummary:
    """Outcome ``x`` around ``shift_x · ȳ`` and covariate ``y`` around ``shift_y`` (see ``UnitAggregate``)."""
    total, squares, shift = a.x_moments
    cross = a.sum_xy + a.shift_x * centred(a.sum_y2, a.sum_y, a.sum_y, a.n_units)
    return CovariateSummary(a.n_units, total, squares, a.sum_y, a.sum_y2, cross, shift, a.shift_y)


def load_quantiles(
    store: ObservationStore,
    experiment: str,
    metric: str,
    q: float,
    variants: list[str],
    *,
    agent: str | None = None,
    alpha: float = 0.05,
    cache: dict[tuple[str, str | None], dict[str, LogHistogram]] | None = None,
) -> dict[str, QuantileEstimate]:
    """Each variant's q-quantile with a unit-clustered interval: histogram, then tail counts at it.

    ``cache`` keeps the histograms read per (metric, agent) for the rest of one evaluation.
    """
    cache = {} if cache is None else cache
    if (metric, agent) not in cache:
        cache[(metric, agent)] = store.histogram(experiment, metric, agent=agent)
    histograms = cache[(metric, agent)]
    present = {v: h for v, h in histograms.items() if v in variants and h.count > 0}
    thresholds = {v: h.quantile(q) for v, h in present.items()}
    tails = store.tail_aggregates(experiment, metric, thresholds, agent=agent)
    out: dict[str, QuantileEstimate] = {}
    for variant, hist in present.items():
        tail = tails.get(variant)
        if tail is None:
            continue
        out[variant] = estimate_quantile_from_sketch(hist.quantile, _ratio(tail), q=q, alpha=alpha)
    return out
