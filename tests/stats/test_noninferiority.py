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
