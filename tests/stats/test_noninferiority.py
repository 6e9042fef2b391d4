"""Non-inferiority: absolute margins match statsmodels; relative margins use the delta method."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import test_proportions_2indep as wald_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from routing_agent.stats import RatioSummary, SampleSummary, compare_ratios, non_inferiority
from tests.stats.support import close, sessions


@pytest.mark.parametrize(("cc", "cn", "tc", "tn"), [(850, 1000, 840, 1000), (4300, 5000, 1050, 1250)])
@pytest.mark.parametrize("direction", ["increase", "decrease"])
def test_proportion_margin_matches_statsmodels(cc: int, cn: int, tc: int, tn: int, direction: str) -> None:
    r = non_inferiority(
        SampleSummary.from_counts(cc, cn),
        SampleSummary.from_counts(tc, tn),
        margin=0.03,
        direction=direction,
        kind="proportion",
    )
    value, alternative = (-0.03, "larger") if direction == "increase" else (0.03, "smaller")
    ref = wald_2indep(tc, tn, cc, cn, method="wald", value=value, alternative=alternative)
    assert close(r.statistic, ref.statistic) and close(r.p_value, ref.pvalue)
    assert r.null_value == value and r.alternative == alternative


@pytest.mark.parametrize("direction", ["increase", "decrease"])
def test_mean_margin_matches_statsmodels_welch(direction: str) -> None:
    rng = np.random.default_rng(2)
    x, y = rng.gamma(4.0, 0.5, 800), rng.gamma(4.0, 0.51, 700)
    r = non_inferiority(
        SampleSummary.from_values(x), SampleSummary.from_values(y), margin=0.1, direction=direction
    )
    value, alternative = (-0.1, "larger") if direction == "increase" else (0.1, "smaller")
    cm = CompareMeans(DescrStatsW(y), DescrStatsW(x))
    t, p, df = cm.ttest_ind(usevar="unequal", value=value, alternative=alternative)
    assert close(r.statistic, t) and close(r.p_value, p) and close(r.df, df)
    low, high = cm.tconfint_diff(usevar="unequal", alternative=alternative)
    assert close(r.ci_low, low) and close(r.ci_high, high)


def test_latency_where_lower_is_better_relative_margin() -> None:
    # the candidate is 2% slower; a 10% relative margin on a lower-is-better metric -> non-inferior
    rng = np.random.default_rng(3)
    control, candidate = rng.lognormal(0.0, 0.5, 4000), rng.lognormal(np.log(1.02), 0.5, 4000)
    c, t = SampleSummary.from_values(control), SampleSummary.from_values(candidate)
    ok = non_inferiority(c, t, margin=0.10, relative=True, direction="decrease")
    assert ok.p_value < 0.05 and ok.reliable
    assert ok.relative_ci_low == -math.inf and ok.relative_ci_high is not None and ok.relative_ci_high < 0.10
    # independent closed form: z on the delta-method relative lift against +10%, Welch df
    rel = t.mean / c.mean - 1
    se = math.sqrt(t.variance_of_mean / c.mean**2 + t.mean**2 * c.variance_of_mean / c.mean**4)
    assert close(ok.statistic, (rel - 0.10) / se)
    assert close(ok.p_value, stats.t.cdf((rel - 0.10) / se, ok.df))
    # a 1% margin is not enough for a 2% slowdown
    assert non_inferiority(c, t, margin=0.01, relative=True, direction="decrease").p_value > 0.5


def test_p_value_and_bound_agree_with_the_margin() -> None:
    for tc in (820, 835, 845, 860):
        r = non_inferiority(
            SampleSummary.from_counts(850, 1000),
            SampleSummary.from_counts(tc, 1000),
            margin=0.03,
            kind="proportion",
        )
        assert (r.p_value < 0.05) == (r.ci_low > -0.03)


def test_ratio_metric_cost_per_call_lower_is_better() -> None:
    rng = np.random.default_rng(4)
    errors_c, calls_c = sessions(rng, 3000)
    errors_t, calls_t = sessions(rng, 3000)
    c, t = RatioSummary.from_values(errors_c, calls_c), RatioSummary.from_values(errors_t, calls_t)
    r = non_inferiority(c, t, margin=0.03, direction="decrease")
    base = compare_ratios(c, t, alternative="smaller")
    assert close(r.std_error, base.std_error) and close(
        r.statistic, (base.absolute_effect - 0.03) / base.std_error
    )
    assert "ratio" in r.method


def test_bad_arguments() -> None:
    c = SampleSummary.from_counts(5, 10)
    with pytest.raises(ValueError):
        non_inferiority(c, c, margin=0.0)
    with pytest.raises(TypeError):
        non_inferiority(c, RatioSummary.from_values([1.0], [1.0]), margin=0.1)  # type: ignore[arg-type]


def test_tost_for_means_matches_statsmodels_ttost_ind() -> None:
    from statsmodels.stats.weightstats import ttost_ind

    from routing_agent.stats import equivalence

    rng = np.random.default_rng(8)
    x, y = rng.normal(10.0, 2.0, 900), rng.normal(10.05, 2.2, 800)
    r = equivalence(SampleSummary.from_values(x), SampleSummary.from_values(y), margin=0.3)
    p, _, _ = ttost_ind(y, x, -0.3, 0.3, usevar="unequal")
    assert close(r.p_value, p)
    assert r.significant == (r.ci_low > -0.3 and r.ci_high < 0.3)
    wide = equivalence(SampleSummary.from_values(x), SampleSummary.from_values(y), margin=0.01)
    assert not wide.significant


@pytest.mark.parametrize("direction", ["increase", "decrease"])
def test_relative_margin_on_a_negative_mean_metric_does_not_flip(direction: str) -> None:
    # a "profit" metric averaging −100: a candidate 1 % of |control| worse is non-inferior at a 5 % margin,
    # one 20 % worse is not, whichever way the numbers' signs point
    rng = np.random.default_rng(9)
    sign = 1.0 if direction == "increase" else -1.0
    control = rng.normal(-100.0, 5.0, 3000)
    slightly_worse = rng.normal(-100.0 - sign * 1.0, 5.0, 3000)
    much_worse = rng.normal(-100.0 - sign * 20.0, 5.0, 3000)
    c = SampleSummary.from_values(control)
    ok = non_inferiority(
        c, SampleSummary.from_values(slightly_worse), margin=0.05, relative=True, direction=direction
    )
    bad = non_inferiority(
        c, SampleSummary.from_values(much_worse), margin=0.05, relative=True, direction=direction
    )
    assert ok.significant and not bad.significant
    assert ok.relative_effect is not None and (ok.relative_effect < 0) == (direction == "increase")
    # the same decision as the absolute test at margin 5 % of |control mean|
    absolute = non_inferiority(
        c, SampleSummary.from_values(slightly_worse), margin=0.05 * abs(c.mean), direction=direction
    )
    assert absolute.significant


def test_relative_lift_p_value_is_the_delta_method_z_test() -> None:
    rng = np.random.default_rng(10)
    x, y = rng.gamma(3.0, 1.0, 2000), rng.gamma(3.0, 1.04, 2100)
    c, t = SampleSummary.from_values(x), SampleSummary.from_values(y)
    r = non_inferiority(c, t, margin=0.02, relative=True)
    from routing_agent.stats import compare_means, compare_proportions

    two = compare_means(c, t)
    rel = t.mean / c.mean - 1
    se = math.sqrt(t.variance_of_mean / c.mean**2 + t.mean**2 * c.variance_of_mean / c.mean**4)
    assert close(two.relative_effect, rel) and close(two.relative_std_error, se)
    assert close(two.relative_p_value, 2 * stats.t.sf(abs(rel / se), two.df))
    assert close(r.relative_p_value, stats.t.sf((rel + 0.02) / se, r.df)) and close(
        r.p_value, r.relative_p_value
    )
    # proportions: the Wald path's lift test is the same direct formula with the normal distribution
    pc, pt = SampleSummary.from_counts(850, 1000), SampleSummary.from_counts(880, 1000)
    rp = compare_proportions(pc, pt)
    lift = 0.88 / 0.85 - 1
    lift_se = math.sqrt(0.88 * 0.12 / 1000 / 0.85**2 + 0.88**2 * 0.85 * 0.15 / 1000 / 0.85**4)
    assert close(rp.relative_p_value, 2 * stats.norm.sf(abs(lift / lift_se)))
