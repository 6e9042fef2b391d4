"""Summaries are exact sums, merge by addition, and give the same moments as numpy on the raw values."""

from __future__ import annotations

import numpy as np
import pytest
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
    assert np.isclose(merged.total, whole.total, rtol=1e-12, atol=1e-9)  # raw sums (shifts may differ)
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
    same = merged.recentered(whole.ratio_shift, whole.denominator_shift)  # sums around one shift
    for a, b in zip(
        (same.n, same.numerator_sum, same.denominator_sum, same.cross_sum, same.numerator_sum_squares),
        (whole.n, whole.numerator_sum, whole.denominator_sum, whole.cross_sum, whole.numerator_sum_squares),
        strict=True,
    ):
        assert abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
    assert close(merged.numerator_total, float(x.sum()), 1e-12)
    assert close(merged.variance_of_ratio, whole.variance_of_ratio, 1e-10)
    assert close(whole.covariance, float(np.cov(x, y, ddof=1)[0, 1]), 1e-10)
    assert close(whole.ratio, x.sum() / y.sum(), 1e-12)
    cov = CovariateSummary.from_values(y, x) + CovariateSummary.from_values([], [])
    assert close(cov.centered_cross, float(((x - x.mean()) * (y - y.mean())).sum()), 1e-9)
    assert close(cov.centered_covariate_squares, float(((x - x.mean()) ** 2).sum()), 1e-10)


def _raw_ratio(x: np.ndarray, y: np.ndarray) -> RatioSummary:
    """The unshifted sums (the formula before shifts)."""
    return RatioSummary(len(x), x.sum(), x @ x, y.sum(), y @ y, x @ y)


@pytest.mark.parametrize("seed", range(5))
def test_shifted_ratio_and_covariate_summaries_match_the_unshifted_formula(seed: int) -> None:
    """Golden: at ordinary scales the shifted sums give what the raw-sum formulas give."""
    rng = np.random.default_rng(seed)
    y = rng.poisson(3, 200) + 1.0
    x = y * rng.normal(2.5, 0.3, 200) + rng.normal(0, 1, 200)
    shifted, raw = RatioSummary.from_values(x, y), _raw_ratio(x, y)
    assert shifted.ratio_shift != 0.0 and raw.ratio_shift == 0.0
    for name in ("ratio", "variance_of_ratio", "covariance", "numerator_total", "denominator_total"):
        assert close(getattr(shifted, name), getattr(raw, name), 1e-10), name
    assert close(shifted.numerator.variance, raw.numerator.variance, 1e-10)
    assert close(shifted.numerator.mean, raw.numerator.mean, 1e-12)
    assert close(shifted.denominator.variance, raw.denominator.variance, 1e-10)
    cov_s = CovariateSummary.from_values(x, y * 1.5 + 0.25)
    z = y * 1.5 + 0.25
    cov_r = CovariateSummary(len(x), x.sum(), x @ x, z.sum(), z @ z, x @ z)
    for name in ("centered_cross", "centered_covariate_squares", "covariate_total"):
        assert close(getattr(cov_s, name), getattr(cov_r, name), 1e-10), name
    assert close(cov_s.outcome.variance, cov_r.outcome.variance, 1e-10)


def test_ratio_summary_keeps_the_delta_method_at_1e9() -> None:
    """Per-call values near 1e9: the delta-method variance equals the one of the same data near 0."""
    rng = np.random.default_rng(9)
    y = rng.integers(1, 5, 500).astype(float)
    noise = y * rng.normal(0.0, 1.0, 500) + rng.normal(0, 1, 500)
    near, far = RatioSummary.from_values(noise, y), RatioSummary.from_values(noise + 1e9 * y, y)
    assert close(far.variance_of_ratio, near.variance_of_ratio, 1e-6)
    assert abs((far.ratio - 1e9) - near.ratio) < 1e-6
    assert not close(
        _raw_ratio(noise + 1e9 * y, y).variance_of_ratio, near.variance_of_ratio, 1e-6
    )  # raw sums: lost


def test_mismatched_lengths_are_rejected() -> None:
    import pytest

    with pytest.raises(ValueError):
        RatioSummary.from_values([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        CovariateSummary.from_values([1.0, 2.0], [1.0])


@pytest.mark.parametrize("offset", [1e6, 1e8, 1e9])
def test_large_offsets_give_the_same_interval_as_values_near_one(offset: float) -> None:
    # the issue: values around 1e9 gave a 28x too-wide CI (1e8: "every unit has the same value")
    from routing_agent.stats import compare_means

    rng = np.random.default_rng(31)
    x, y = rng.normal(0.0, 1.0, 4000), rng.normal(0.05, 1.0, 4000)
    near = compare_means(SampleSummary.from_values(x + 1.0), SampleSummary.from_values(y + 1.0))
    far = compare_means(SampleSummary.from_values(x + offset), SampleSummary.from_values(y + offset))
    width_near, width_far = near.ci_high - near.ci_low, far.ci_high - far.ci_low
    assert abs(width_far / width_near - 1) < 1e-6 and far.reliable
    assert not any("zero variance" in w for w in far.warnings)
    # the same holds for summaries merged from shards (each shard with its own shift)
    merged = SampleSummary.from_values(x[:7] + offset)
    for start in range(7, 4000, 331):
        merged = merged + SampleSummary.from_values(x[start : start + 331] + offset)
    assert merged.n == 4000 and abs(merged.variance / np.var(x, ddof=1) - 1) < 1e-6


def test_shifted_summaries_keep_counts_and_raw_sums() -> None:
    binary = SampleSummary.from_values([0, 1, 1, 0, 1])
    assert binary.shift == 0.0 and binary.total == 3 and binary.is_binary
    values = np.array([2.5, 3.5, 10.25, -4.0])
    s = SampleSummary.from_values(values)
    assert s.shift != 0.0
    assert close(s.total, values.sum()) and close(s.total_squares, float(values @ values))
    assert close(s.mean, values.mean()) and close(s.variance, values.var(ddof=1))
    assert s.recentered(0.0).shift == 0.0 and close(s.recentered(0.0).variance, s.variance)
    assert (SampleSummary(0, 0.0, 0.0) + s) == s
