"""SRM: chi-square equals scipy.stats.chisquare; the deviation guard and degenerate splits."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from routing_agent.stats import srm_test
from tests.stats.support import close


@pytest.mark.parametrize(
    ("counts", "weights"),
    [
        ([5000, 5100], [0.5, 0.5]),
        ([8150, 1850], [0.8, 0.2]),
        ([300, 340, 290], [1, 1, 1]),
        ([10, 30], [80, 20]),
    ],
)
def test_matches_scipy_chisquare(counts: list[int], weights: list[float]) -> None:
    r = srm_test(counts, weights)
    expected = [sum(counts) * w / sum(weights) for w in weights]
    ref = stats.chisquare(counts, expected)
    assert close(r.statistic, ref.statistic) and close(r.p_value, ref.pvalue)
    assert r.df == len(counts) - 1


def test_flags_a_real_mismatch_but_not_a_trivial_one_in_a_huge_sample() -> None:
    broken = srm_test({"control": 5000, "candidate": 4500}, {"control": 0.5, "candidate": 0.5})
    assert broken.mismatch and broken.p_value < 1e-6 and broken.variants == ("control", "candidate")
    trivial = srm_test([5_010_000, 4_990_000], [0.5, 0.5])  # 50.1/49.9: p ≈ 3e-10, deviation 0.2%
    assert trivial.p_value < 0.001 and not trivial.mismatch
    assert close(trivial.max_relative_deviation, 0.002)
    assert srm_test([5_010_000, 4_990_000], [0.5, 0.5], min_relative_deviation=0.0).mismatch
    assert not srm_test([5050, 4950], [0.5, 0.5]).mismatch  # p = 0.32


def test_units_in_a_zero_weight_arm_are_always_a_mismatch() -> None:
    r = srm_test([100, 3], [1.0, 0.0])
    assert r.mismatch and r.p_value == 0.0 and math.isinf(r.statistic)


def test_empty_and_small_samples_are_unreliable() -> None:
    assert not srm_test([0, 0], [0.5, 0.5]).reliable
    small = srm_test([3, 1], [0.5, 0.5])
    assert not small.reliable and not small.mismatch


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        srm_test({"a": 1, "b": 2}, {"a": 0.5, "c": 0.5})
    with pytest.raises(ValueError):
        srm_test([1], [1.0])
    with pytest.raises(ValueError):
        srm_test([1, 2], [0.0, 0.0])
