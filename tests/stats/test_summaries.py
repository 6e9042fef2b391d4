"""Summaries are exact sums, merge by addition, and give the same moments as numpy on the raw values."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routing_agent.stats import CovariateSummary, RatioSummary, SampleSummary
from tests.stats.support import close

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=0, max_size=40), st.lists(finite, min_size=0, max_size=40))
def test_merging_two_shards_equals_summarising_everything(a: list[float], b: list[float]) -> None:
    merged = SampleSummary.from_values(a) + SampleSummary.from_values(b)
    whole = SampleSummary.from_values(a + b)
    assert merged.n == whole.n
    assert np.isclose(merged.sum, whole.sum, rtol=1e-12, atol=1e-9)
    assert np.isclose(merged.variance, whole.variance, rtol=1e-7, atol=1e-6)


def test_moments_match_numpy() -> None:
    rng = np.random.default_rng(0)
    y = rng.gamma(2.0, 3.0, 5000)
    s = SampleSummary.from_values(y)
    assert close(s.mean, y.mean(), 1e-12)
    assert close(s.variance, y.var(ddof=1), 1e-10)
    assert close(s.variance_of_mean, y.var(ddof=1) / y.size, 1e-10)


def test_small_and_empty_samples_have_zero_variance_not_nan() -> None:
    assert SampleSummary.from_values([]).mean == 0.0
    assert SampleSummary.from_values([]).variance == 0.0
    assert SampleSummary.from_values([3.0]).variance == 0.0
    # a variance that cancels below zero in floating point is clipped, never negative
    assert SampleSummary(n=3, sum=3e8, sum_squares=3e16 - 1.0).variance == 0.0


def test_binary_detection() -> None:
    assert SampleSummary.from_counts(30, 100).is_binary
    assert SampleSummary.from_values([0, 1, 1, 0]).is_binary
    assert not SampleSummary.from_values([0.5, 1.0]).is_binary


def test_ratio_and_covariate_summaries_merge_and_match_numpy() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(5, 2, 300), rng.poisson(4, 300) + 1.0
    whole = RatioSummary.from_values(x, y)
    merged = RatioSummary.from_values(x[:100], y[:100]) + RatioSummary.from_values(x[100:], y[100:])
    for a, b in zip(
        (merged.n, merged.numerator_sum, merged.denominator_sum, merged.cross_sum),
        (whole.n, whole.numerator_sum, whole.denominator_sum, whole.cross_sum),
        strict=True,
    ):
        assert close(float(a), float(b), 1e-12)
    assert close(whole.covariance, float(np.cov(x, y, ddof=1)[0, 1]), 1e-10)
    assert close(whole.ratio, x.sum() / y.sum(), 1e-12)
    cov = CovariateSummary.from_values(y, x) + CovariateSummary.from_values([], [])
    assert close(cov.centered_cross, float(((x - x.mean()) * (y - y.mean())).sum()), 1e-9)
    assert close(cov.centered_covariate_squares, float(((x - x.mean()) ** 2).sum()), 1e-10)


def test_mismatched_lengths_are_rejected() -> None:
    import pytest

    with pytest.raises(ValueError):
        RatioSummary.from_values([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        CovariateSummary.from_values([1.0, 2.0], [1.0])
