"""Failures are data: arbitrary small or degenerate inputs never raise and never produce NaN."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routing_agent.stats import (
    ClusteredValues,
    CovariateSummary,
    EffectResult,
    RatioSummary,
    SampleSummary,
    analyze_segments,
    as_json,
    compare_means,
    compare_proportions,
    compare_quantiles,
    compare_ratios,
    cuped,
    non_inferiority,
    sequential_test,
)

values = st.lists(st.sampled_from([0.0, 0.0, 1.0, 1.0, 2.5, 1e-3, 1e3]), min_size=0, max_size=12)
binary = st.tuples(st.integers(0, 60), st.integers(0, 60)).map(lambda t: (min(t), max(t)))


def _check(r: EffectResult) -> None:
    numbers = [r.control_mean, r.treatment_mean, r.absolute_effect, r.std_error, r.statistic, r.p_value]
    numbers += [r.ci_low, r.ci_high]
    assert not any(math.isnan(x) for x in numbers), r
    assert 0.0 <= r.p_value <= 1.0
    if not r.reliable:
        assert r.warnings
    json.dumps(r.to_json(), allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(binary, binary, st.booleans())
def test_proportions_never_nan(c: tuple[int, int], t: tuple[int, int], pooled: bool) -> None:
    cs, ts = SampleSummary.from_counts(*c), SampleSummary.from_counts(*t)
    _check(compare_proportions(cs, ts, pooled=pooled))
    _check(non_inferiority(cs, ts, margin=0.05, kind="proportion"))
    _check(non_inferiority(cs, ts, margin=0.05, relative=True, kind="proportion", direction="decrease"))
    _check(sequential_test(cs, ts, kind="proportion"))


@settings(max_examples=150, deadline=None)
@given(values, values)
def test_means_ratios_cuped_never_nan(a: list[float], b: list[float]) -> None:
    ca, cb = SampleSummary.from_values(a), SampleSummary.from_values(b)
    _check(compare_means(ca, cb))
    _check(non_inferiority(ca, cb, margin=0.1, relative=True))
    _check(sequential_test(ca, cb, scale="relative"))
    ra = RatioSummary.from_values(a, [1.0 + (i % 3) for i in range(len(a))])
    rb = RatioSummary.from_values(b, list(b))
    _check(compare_ratios(ra, rb))
    _check(sequential_test(ra, rb))
    _check(cuped(CovariateSummary.from_values(a, a[::-1]), CovariateSummary.from_values(b, b)))


@settings(max_examples=60, deadline=None)
@given(values, values, st.sampled_from([0.5, 0.95, 0.99]))
def test_quantiles_never_nan(a: list[float], b: list[float], q: float) -> None:
    r = compare_quantiles(ClusteredValues.unclustered(a), ClusteredValues.from_groups([b, b[:2]]), q=q)
    _check(r)
    json.dumps(as_json(r), allow_nan=False)


def test_segments_with_degenerate_values_stay_finite() -> None:
    groups = {
        "empty": (SampleSummary.from_counts(0, 0), SampleSummary.from_counts(0, 0)),
        "all": (SampleSummary.from_counts(9, 9), SampleSummary.from_counts(9, 9)),
        "fine": (SampleSummary.from_counts(400, 1000), SampleSummary.from_counts(430, 1000)),
    }
    a = analyze_segments("tier", groups, compare_proportions)
    assert all(not np.isnan(s.adjusted_p_value) for s in a.segments)
    json.dumps(as_json(a), allow_nan=False)
