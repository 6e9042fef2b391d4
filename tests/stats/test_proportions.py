"""Score-based two-proportion inference: statsmodels to 1e-9, the automatic switch, the issue's cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, tost_proportions_2indep
from statsmodels.stats.proportion import test_proportions_2indep as sm_test

from routing_agent.stats import (
    SampleSummary,
    compare_proportions,
    equivalence,
    non_inferiority,
    score_interval,
    score_test_proportions,
)
from tests.stats.support import close

ALTERNATIVES = ["two-sided", "larger", "smaller"]


def _random_counts(seed: int, cases: int) -> list[tuple[int, int, int, int]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(cases):
        nc, nt = (int(v) for v in rng.integers(20, 5000, 2))
        pc, pt = rng.uniform(0.05, 0.95, 2)
        out.append((int(rng.binomial(nc, pc)), nc, int(rng.binomial(nt, pt)), nt))
    return out


def _feasible(ref: object) -> bool:
    p1, p2 = getattr(ref, "prop1_null"), getattr(ref, "prop2_null")  # noqa: B009
    return all(0.0 <= float(v) <= 1.0 for v in (p1, p2)) and math.isfinite(getattr(ref, "pvalue"))  # noqa: B009


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_score_test_matches_statsmodels_on_40_random_cases(alternative: str) -> None:
    checked = 0
    for xc, nc, xt, nt in _random_counts(7, 40):
        for compare, values in (("diff", (0.0, -0.03, 0.02)), ("ratio", (1.0, 0.9, 1.1))):
            for value in values:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ref = sm_test(
                        xt, nt, xc, nc, value=value, compare=compare, method="score", alternative=alternative
                    )
                if not _feasible(ref):
                    continue
                z, p = score_test_proportions(
                    xc,
                    nc,
                    xt,
                    nt,
                    null_value=value,
                    compare=compare,
                    alternative=alternative,  # type: ignore[arg-type]
                )
                assert close(z, ref.statistic), (xc, nc, xt, nt, compare, value)
                assert close(p, ref.pvalue, atol=1e-300), (xc, nc, xt, nt, compare, value)
                checked += 1
    assert checked >= 200


def test_score_interval_matches_statsmodels() -> None:
    checked = 0
    for xc, nc, xt, nt in [*_random_counts(11, 40), (4000, 4000, 3960, 4000), (5996, 6000, 5940, 6000)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                low, high = confint_proportions_2indep(xt, nt, xc, nc, method="score", compare="diff")
            except Exception:  # statsmodels' own root search fails on some inputs
                continue
        ours = score_interval(xc, nc, xt, nt, compare="diff")
        assert close(ours[0], low, rtol=1e-8) and close(ours[1], high, rtol=1e-8), (xc, nc, xt, nt)
        checked += 1
    assert checked >= 30


def test_restricted_rates_stay_feasible_where_the_closed_form_leaves_0_1() -> None:
    # statsmodels' cubic gives a negative constrained rate here; ours is the MLE on the feasible range
    z, p = score_test_proportions(1, 30, 0, 40, null_value=-0.02)
    assert math.isfinite(z) and 0 < p < 1


@pytest.mark.parametrize(
    ("control", "treatment", "fisher_p_below"),
    [((4000, 4000), (3960, 4000), 1e-11), ((5996, 6000), (5940, 6000), 1e-9)],
)
def test_the_issues_near_one_rates_are_significant_and_not_non_inferior(
    control: tuple[int, int], treatment: tuple[int, int], fisher_p_below: float
) -> None:
    c, t = SampleSummary.from_counts(*control), SampleSummary.from_counts(*treatment)
    fisher = stats.fisher_exact(
        [[control[0], control[1] - control[0]], [treatment[0], treatment[1] - treatment[0]]]
    )
    assert fisher.pvalue < fisher_p_below  # the independent reference: a real, large drop
    r = compare_proportions(c, t)
    assert r.method_id == "score" and "score" in r.method and r.reliable
    assert r.significant and r.p_value < 1e-6 and r.ci_high < 0
    assert r.relative_p_value is not None and r.relative_p_value < 1e-6
    assert r.relative_ci_high is not None and r.relative_ci_high < 0
    wald = compare_proportions(c, t, method="wald")
    assert not wald.reliable  # the Wald reading this replaces
    for margin in (0.005, 0.01):
        ni = non_inferiority(c, t, margin=margin, kind="proportion")
        assert ni.method_id == "score" and not ni.significant and ni.ci_low < -margin
        rel = non_inferiority(c, t, margin=margin, relative=True, kind="proportion")
        assert not rel.significant


def test_identical_all_success_arms_are_not_different_and_not_degenerate() -> None:
    r = compare_proportions(SampleSummary.from_counts(4000, 4000), SampleSummary.from_counts(4000, 4000))
    assert r.p_value == 1.0 and not r.significant and r.reliable
    assert r.ci_low < 0 < r.ci_high  # a real interval, not [0, 0]
    ni = non_inferiority(
        SampleSummary.from_counts(4000, 4000),
        SampleSummary.from_counts(4000, 4000),
        margin=0.005,
        kind="proportion",
    )
    assert ni.significant and ni.ci_low > -0.005  # 4000/4000 twice does show "no worse by half a point"


def test_auto_keeps_wald_where_it_is_reliable_and_matches_statsmodels() -> None:
    c, t = SampleSummary.from_counts(850, 1000), SampleSummary.from_counts(880, 1000)
    r = compare_proportions(c, t)
    ref = sm_test(880, 1000, 850, 1000, method="wald")
    assert r.method_id == "wald" and close(r.p_value, ref.pvalue)
    forced = compare_proportions(c, t, method="score")
    ref_score = sm_test(880, 1000, 850, 1000, method="score")
    assert forced.method_id == "score" and close(forced.p_value, ref_score.pvalue)


@pytest.mark.parametrize(("xc", "nc", "xt", "nt"), [(3, 200, 1, 300), (0, 50, 2, 60), (9, 400, 30, 400)])
def test_few_successes_switch_to_score(xc: int, nc: int, xt: int, nt: int) -> None:
    r = compare_proportions(SampleSummary.from_counts(xc, nc), SampleSummary.from_counts(xt, nt))
    assert r.method_id == "score" and "unreliable" in r.method
    ref = sm_test(xt, nt, xc, nc, method="score")
    assert close(r.p_value, ref.pvalue) and (r.p_value < 0.05) == (r.ci_low > 0 or r.ci_high < 0)


def test_tiny_arms_are_flagged_even_for_the_score_test() -> None:
    r = compare_proportions(SampleSummary.from_counts(2, 4), SampleSummary.from_counts(4, 5))
    assert not r.reliable and any("too few even for the score test" in w for w in r.warnings)


def test_score_non_inferiority_holds_its_level_at_the_margin_near_one() -> None:
    # truth exactly at the margin (0.995 vs 0.990, margin 0.005): rejections must stay near alpha
    rng = np.random.default_rng(5)
    n, runs = 3000, 1500
    xc, xt = rng.binomial(n, 0.995, runs), rng.binomial(n, 0.990, runs)
    rejections = sum(
        score_test_proportions(a, n, b, n, null_value=-0.005, alternative="larger")[1] < 0.05
        for a, b in zip(xc, xt, strict=True)
    )
    rate = rejections / runs
    se = math.sqrt(0.05 * 0.95 / runs)
    assert rate <= 0.05 + 3 * se, rate


@pytest.mark.parametrize(("xc", "nc", "xt", "nt"), [(850, 1000, 845, 1000), (3990, 4000, 3985, 4000)])
def test_tost_for_proportions_matches_statsmodels(xc: int, nc: int, xt: int, nt: int) -> None:
    r = equivalence(
        SampleSummary.from_counts(xc, nc), SampleSummary.from_counts(xt, nt), margin=0.02, kind="proportion",
        method="score",
    )  # fmt: skip
    ref = tost_proportions_2indep(xt, nt, xc, nc, -0.02, 0.02, method="score")
    assert close(r.p_value, ref.pvalue) and close(r.statistic, ref.statistic)
    assert r.significant == (r.ci_low > -0.02 and r.ci_high < 0.02)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(10, 3000),
    st.integers(10, 3000),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.sampled_from([0.0, -0.01, -0.05]),
)
def test_score_test_and_interval_never_disagree(nc: int, nt: int, fc: float, ft: float, null: float) -> None:
    xc, xt = round(fc * nc), round(ft * nt)
    c, t = SampleSummary.from_counts(xc, nc), SampleSummary.from_counts(xt, nt)
    two = compare_proportions(c, t, method="score")
    excluded = two.ci_low > 0 or two.ci_high < 0
    assert two.significant == excluded or abs(two.p_value - two.alpha) < 1e-9
    if null < 0:
        ni = non_inferiority(c, t, margin=-null, kind="proportion", method="score")
        assert ni.significant == (ni.ci_low > null) or abs(ni.p_value - ni.alpha) < 1e-9
    for value in (two.p_value, two.ci_low, two.ci_high, two.statistic):
        assert not math.isnan(value)
