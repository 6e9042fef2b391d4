"""Two-proportion z and Welch's t against statsmodels / scipy to 1e-9, and edge cases as data."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportions_ztest,
)
from statsmodels.stats.proportion import test_proportions_2indep as wald_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from routing_agent.stats import EffectResult, SampleSummary, compare_means, compare_proportions
from tests.stats.support import close

ALTERNATIVES = ["two-sided", "larger", "smaller"]
SCIPY = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}
COUNTS = [
    (850, 1000, 880, 1000),
    (4230, 5000, 4302, 5100),
    (12, 40, 7, 35),  # small counts: still matches, flagged
    (120, 120, 110, 118),  # all-success control: unpooled SE from treatment only
    (30, 9000, 52, 2100),  # rare events, 80/20-ish split
]


@pytest.mark.parametrize(("cc", "cn", "tc", "tn"), COUNTS)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_unpooled_z_matches_statsmodels_wald(cc: int, cn: int, tc: int, tn: int, alternative: str) -> None:
    r = compare_proportions(
        SampleSummary.from_counts(cc, cn),
        SampleSummary.from_counts(tc, tn),
        alternative=alternative,
        method="wald",
    )
    ref = wald_2indep(tc, tn, cc, cn, method="wald", alternative=alternative)
    assert close(r.statistic, ref.statistic)
    assert close(r.p_value, ref.pvalue)
    low, high = confint_proportions_2indep(tc, tn, cc, cn, method="wald", alpha=0.05)
    if alternative == "two-sided":
        assert close(r.ci_low, low) and close(r.ci_high, high)
    assert close(r.absolute_effect, tc / tn - cc / cn, 1e-12)


@pytest.mark.parametrize(("cc", "cn", "tc", "tn"), COUNTS)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_pooled_z_matches_statsmodels_proportions_ztest(
    cc: int, cn: int, tc: int, tn: int, alternative: str
) -> None:
    r = compare_proportions(
        SampleSummary.from_counts(cc, cn),
        SampleSummary.from_counts(tc, tn),
        alternative=alternative,
        pooled=True,
        method="wald",
    )
    z, p = proportions_ztest([tc, cc], [tn, cn], alternative=alternative)
    assert close(r.statistic, z)
    assert close(r.p_value, p)


def test_one_sided_interval_is_a_bound_and_agrees_with_the_test() -> None:
    c, t = SampleSummary.from_counts(850, 1000), SampleSummary.from_counts(880, 1000)
    larger = compare_proportions(c, t, alternative="larger")
    assert larger.ci_high == math.inf
    # the one-sided 95% lower bound is the lower end of the two-sided 90% interval
    low90, _ = confint_proportions_2indep(880, 1000, 850, 1000, method="wald", alpha=0.10)
    assert close(larger.ci_low, low90)
    assert (larger.ci_low > 0) == (larger.p_value < 0.05)
    smaller = compare_proportions(c, t, alternative="smaller")
    assert smaller.ci_low == -math.inf and smaller.p_value > 0.5


def _relative_reference(c_mean: float, t_mean: float, vc: float, vt: float, crit: float) -> tuple[float, ...]:
    rel = t_mean / c_mean - 1
    se = math.sqrt(vt / c_mean**2 + t_mean**2 * vc / c_mean**4)
    return rel, rel - crit * se, rel + crit * se


def test_relative_lift_ci_is_the_delta_method() -> None:
    r = compare_proportions(SampleSummary.from_counts(850, 1000), SampleSummary.from_counts(880, 1000))
    rel, low, high = _relative_reference(
        0.85, 0.88, 0.85 * 0.15 / 1000, 0.88 * 0.12 / 1000, stats.norm.ppf(0.975)
    )
    assert close(r.relative_effect, rel) and close(r.relative_ci_low, low) and close(r.relative_ci_high, high)


SAMPLES = [
    (200, 1.0, 2.0, 150, 1.3, 3.0),
    (5000, 10.0, 4.0, 5200, 10.05, 4.5),
    (3, 0.0, 1.0, 4, 0.5, 1.0),  # tiny n: still matches, flagged
    (40, 2.0, 0.5, 400, 1.9, 2.5),
]


@pytest.mark.parametrize(("nc", "mc", "sc", "nt", "mt", "st_"), SAMPLES)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_welch_matches_scipy_and_statsmodels(
    nc: int, mc: float, sc: float, nt: int, mt: float, st_: float, alternative: str
) -> None:
    rng = np.random.default_rng(nc + nt)
    x, y = rng.normal(mc, sc, nc), rng.normal(mt, st_, nt)
    r = compare_means(SampleSummary.from_values(x), SampleSummary.from_values(y), alternative=alternative)
    ref = stats.ttest_ind(y, x, equal_var=False, alternative=SCIPY[alternative])
    assert close(r.statistic, ref.statistic) and close(r.p_value, ref.pvalue) and close(r.df, ref.df)
    cm = CompareMeans(DescrStatsW(y), DescrStatsW(x))
    low, high = cm.tconfint_diff(usevar="unequal", alternative=alternative)
    assert close(r.ci_low, low) and close(r.ci_high, high)
    z = compare_means(
        SampleSummary.from_values(x), SampleSummary.from_values(y), alternative=alternative, use_t=False
    )
    z_ref, p_ref = cm.ztest_ind(usevar="unequal", alternative=alternative)
    assert close(z.statistic, z_ref) and close(z.p_value, p_ref)
    zlow, zhigh = cm.zconfint_diff(usevar="unequal", alternative=alternative)
    assert close(z.ci_low, zlow) and close(z.ci_high, zhigh)


def test_welch_from_summary_stats_matches_ttest_ind_from_stats() -> None:
    c = SampleSummary(n=1000, sum=850.0, sum_squares=850.0)
    t = SampleSummary(n=1100, sum=990.0, sum_squares=990.0)
    r = compare_means(c, t)
    ref = stats.ttest_ind_from_stats(
        t.mean, math.sqrt(t.variance), t.n, c.mean, math.sqrt(c.variance), c.n, equal_var=False
    )
    assert close(r.statistic, ref.statistic) and close(r.p_value, ref.pvalue)


def _assert_finite_record(r: EffectResult) -> None:
    for value in (r.absolute_effect, r.std_error, r.statistic, r.p_value, r.control_mean, r.treatment_mean):
        assert not math.isnan(value)
    assert 0.0 <= r.p_value <= 1.0
    assert r.to_json()["reliable"] is False


@pytest.mark.parametrize(
    ("control", "treatment", "reason"),
    [
        (SampleSummary.from_counts(50, 50), SampleSummary.from_counts(50, 50), "all-success"),
        (SampleSummary.from_counts(0, 80), SampleSummary.from_counts(0, 80), "no successes"),
        (SampleSummary.from_counts(0, 0), SampleSummary.from_counts(3, 10), "no units"),
        (SampleSummary.from_counts(1, 200), SampleSummary.from_counts(3, 200), "fewer than 5"),
        (SampleSummary.from_values([0.2, 0.7]), SampleSummary.from_values([0.1, 0.3]), "not 0/1"),
    ],
)
def test_proportion_edge_cases_are_unreliable_results_not_errors(
    control: SampleSummary, treatment: SampleSummary, reason: str
) -> None:
    for pooled in (False, True):
        r = compare_proportions(control, treatment, pooled=pooled, method="wald")
        _assert_finite_record(r)
        assert any(reason in w for w in r.warnings), r.warnings


def test_both_arms_all_success_is_degenerate_where_statsmodels_gives_nan() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = wald_2indep(50, 50, 50, 50, method="wald")
    assert math.isnan(ref.statistic) or math.isinf(ref.statistic)
    r = compare_proportions(
        SampleSummary.from_counts(50, 50), SampleSummary.from_counts(50, 50), method="wald"
    )
    assert r.statistic == 0.0 and r.p_value == 1.0 and not r.reliable
    assert any("zero standard error" in w for w in r.warnings)


def test_constant_but_different_arms_give_a_flagged_zero_p_value() -> None:
    r = compare_means(SampleSummary.from_values([1.0] * 40), SampleSummary.from_values([2.0] * 40))
    assert r.statistic == math.inf and r.p_value == 0.0 and not r.reliable
    assert r.to_json()["statistic"] is None  # JSON never carries inf


@pytest.mark.parametrize(
    ("control", "treatment", "reason"),
    [
        (SampleSummary.from_values([1.0]), SampleSummary.from_values([2.0, 3.0]), "cannot be estimated"),
        (SampleSummary.from_values([]), SampleSummary.from_values([]), "cannot be estimated"),
        (SampleSummary.from_values([1.0] * 50), SampleSummary.from_values([1.0] * 50), "zero variance"),
        (SampleSummary.from_values(range(10)), SampleSummary.from_values(range(12)), "only 10 units"),
        (SampleSummary.from_values([1.0, math.nan] * 20), SampleSummary.from_values([1.0, 2.0] * 20), "NaN"),
    ],
)
def test_mean_edge_cases_are_unreliable_results_not_errors(
    control: SampleSummary, treatment: SampleSummary, reason: str
) -> None:
    r = compare_means(control, treatment)
    _assert_finite_record(r)
    assert any(reason in w for w in r.warnings), r.warnings


def test_zero_control_mean_leaves_relative_effect_undefined_but_test_reliable() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(0, 1, 400), rng.normal(0.3, 1, 400)
    x -= x.mean()
    r = compare_means(SampleSummary.from_values(x), SampleSummary.from_values(y))
    if r.control_mean == 0.0:
        assert r.relative_effect is None and r.reliable
    assert r.p_value < 0.01


def test_invalid_parameters_raise() -> None:
    c = SampleSummary.from_counts(5, 10)
    with pytest.raises(ValueError):
        compare_proportions(c, c, alpha=1.5)
    with pytest.raises(ValueError):
        compare_means(c, c, alternative="bigger")  # type: ignore[arg-type]
