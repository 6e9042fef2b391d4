"""Power and sample size against statsmodels' power functions, the seeds' example, and the CLI."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower, normal_power_het, zt_ind_solve_power
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    proportion_effectsize,
    samplesize_proportions_2indep_onetail,
)
from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.stats import (
    parse_allocation,
    plan_sample_size,
    power_means,
    power_proportions,
    rule_of_thumb,
)
from tests.stats.support import close

ALTS = {"two-sided": "two-sided", "one-sided": "larger"}


def test_seeds_worked_example() -> None:
    # "p=0.85, MDE=0.02: n = 16 * 0.85 * 0.15 / 0.0004 = ~5,100 per arm"
    plan = plan_sample_size(baseline=0.85, mde=0.02, traffic_per_day=5000, cover="improvement")
    assert plan.rule_of_thumb_per_arm == 5100
    assert plan.n_per_arm == (4722, 4722) and plan.total == 9444
    assert plan.achieved_power >= 0.8
    smaller = power_proportions(0.85, 0.87, 4721, 4721)
    assert smaller < 0.8  # 4,722 is the smallest that reaches 80% against a rise
    assert close(plan.days or 0.0, 9444 / 5000)
    # the relative form of the same MDE gives the same plan
    relative = plan_sample_size(baseline=0.85, mde=0.02 / 0.85, mde_relative=True, cover="improvement")
    assert relative.n_per_arm == plan.n_per_arm


@pytest.mark.parametrize(("n_c", "n_t"), [(4722, 4722), (11379, 2845), (800, 1200)])
@pytest.mark.parametrize("test", ["two-sided", "one-sided"])
def test_pooled_power_matches_power_proportions_2indep(n_c: int, n_t: int, test: str) -> None:
    ours = power_proportions(0.85, 0.87, n_c, n_t, pooled=True, test=test)  # type: ignore[arg-type]
    ref = power_proportions_2indep(0.02, 0.85, n_t, ratio=n_c / n_t, alternative=ALTS[test]).power
    assert close(ours, ref)


@pytest.mark.parametrize(("n_c", "n_t"), [(4722, 4722), (11379, 2845)])
@pytest.mark.parametrize("test", ["two-sided", "one-sided"])
def test_unpooled_power_matches_normal_power_het(n_c: int, n_t: int, test: str) -> None:
    ours = power_proportions(0.85, 0.87, n_c, n_t, test=test)  # type: ignore[arg-type]
    std = math.sqrt(0.87 * 0.13 + 0.85 * 0.15 * n_t / n_c)
    ref = normal_power_het(0.02, n_t, 0.05, std_null=std, std_alternative=std, alternative=ALTS[test])
    assert close(ours, ref)


def test_non_inferiority_power_matches_normal_power_het() -> None:
    ours = power_proportions(0.85, 0.85, 3942, 3942, test="non-inferiority", margin=0.02)
    std = math.sqrt(2 * 0.85 * 0.15)
    assert close(ours, normal_power_het(0.02, 3942, 0.05, std_null=std, alternative="larger"))
    lower = power_proportions(
        0.85, 0.85, 3942, 3942, test="non-inferiority", margin=0.02, direction="decrease"
    )
    assert close(lower, ours)


@pytest.mark.parametrize("ratio", [1.0, 0.25, 3.0])
@pytest.mark.parametrize("test", ["two-sided", "one-sided"])
def test_mean_power_matches_normal_ind_power(ratio: float, test: str) -> None:
    n_t = 1500
    ours = power_means(0.1, 1.5, n_t * ratio, n_t, test=test)  # type: ignore[arg-type]
    ref = NormalIndPower().power(0.1 / 1.5, n_t, 0.05, ratio=ratio, alternative=ALTS[test])
    assert close(ours, ref)


def test_one_tail_closed_form_matches_statsmodels() -> None:
    for weights in [(0.5, 0.5), (0.8, 0.2)]:
        plan = plan_sample_size(baseline=0.85, mde=0.02, pooled=True, weights=weights, cover="improvement")
        ref = samplesize_proportions_2indep_onetail(0.02, 0.85, 0.8, ratio=weights[0] / weights[1])
        assert close(plan.one_tail_total * weights[1], ref)
        assert plan.exact_total <= plan.one_tail_total  # the far tail only helps


def test_exact_total_solves_the_power_equation_like_statsmodels() -> None:
    plan = plan_sample_size(baseline=10.0, sd=4.0, mde=0.25)
    ref = NormalIndPower().solve_power(0.25 / 4.0, power=0.8, alpha=0.05)
    # statsmodels' root finder stops at ~1e-8 relative; the power at our solution is the target to 1e-12
    assert abs(plan.exact_total / 2 / ref - 1) < 1e-6
    assert abs(power_means(0.25, 4.0, plan.exact_total / 2, plan.exact_total / 2) - 0.8) < 1e-12


def test_unpooled_plan_equals_zt_ind_solve_power_where_definitions_agree() -> None:
    # with equal arms the unpooled z test's SE is √((p1q1 + p2q2)/n): Cohen's d with σ = √((p1q1 + p2q2)/2)
    plan = plan_sample_size(baseline=0.85, mde=0.02, cover="improvement")
    d = 0.02 / math.sqrt((0.85 * 0.15 + 0.87 * 0.13) / 2)
    ref = zt_ind_solve_power(effect_size=d, alpha=0.05, power=0.8)
    assert abs(plan.exact_total / 2 / ref - 1) < 1e-6
    assert plan.n_per_arm[0] == math.ceil(ref)


def test_cohens_h_is_a_different_test_and_gives_a_nearby_figure() -> None:
    # statsmodels' proportion power uses Cohen's h (arcsine transform): another statistic, so not equal
    h = proportion_effectsize(0.87, 0.85)
    by_h = NormalIndPower().solve_power(h, power=0.8, alpha=0.05)
    ours = plan_sample_size(baseline=0.85, mde=0.02, cover="improvement").exact_total / 2
    assert by_h != pytest.approx(ours, rel=1e-6)
    assert abs(by_h / ours - 1) < 0.01


def test_unequal_allocation_costs_more_in_total() -> None:
    even = plan_sample_size(baseline=0.85, mde=0.02, cover="improvement")
    skew = plan_sample_size(baseline=0.85, mde=0.02, weights=(0.8, 0.2), cover="improvement")
    assert skew.n_per_arm == (11379, 2845) and skew.total > even.total
    assert close(skew.n_per_arm[0] / skew.n_per_arm[1], 4.0, 1e-3)


def test_several_arms_split_alpha() -> None:
    bonf = plan_sample_size(baseline=0.85, mde=0.02, arms=3)
    dunnett = plan_sample_size(baseline=0.85, mde=0.02, arms=3, correction="dunnett")
    assert close(bonf.critical_value, 2.241402727604947) and bonf.correction == "bonferroni"
    assert round(dunnett.critical_value, 2) == 2.21
    assert plan_sample_size(baseline=0.85, mde=0.02).n_per_arm[0] < dunnett.n_per_arm[0] < bonf.n_per_arm[0]
    with pytest.raises(ValueError):
        plan_sample_size(baseline=0.85, mde=0.02, arms=3, weights=(0.5, 0.3, 0.2), correction="dunnett")


def test_one_sided_and_non_inferiority_plans() -> None:
    two = plan_sample_size(baseline=0.85, mde=0.02)
    one = plan_sample_size(baseline=0.85, mde=0.02, test="one-sided")
    ni = plan_sample_size(baseline=0.85, mde=0.02, test="non-inferiority", margin=0.02)
    assert one.n_per_arm[0] < two.n_per_arm[0]
    # same distance from H0 as the one-sided plan, but the variance is taken at 0.85/0.85 (not 0.85/0.87)
    assert one.n_per_arm[0] < ni.n_per_arm[0] < two.n_per_arm[0]
    assert ni.n_per_arm == (3942, 3942) and ni.margin == 0.02 and ni.effect == 0.0
    rel = plan_sample_size(
        baseline=0.85, mde=0.02, test="non-inferiority", margin=0.02 / 0.85, margin_relative=True
    )
    assert rel.n_per_arm == ni.n_per_arm


def test_rule_of_thumb_and_allocation_parsing() -> None:
    assert rule_of_thumb(0.02, baseline=0.85) == 5100
    assert rule_of_thumb(0.1, sd=1.5) == 3600
    assert parse_allocation("80/20") == (0.8, 0.2) and parse_allocation("1:1:2") == (0.25, 0.25, 0.5)
    for bad in ("80", "a/b", "80/-20"):
        with pytest.raises(ValueError):
            parse_allocation(bad)


def test_invalid_plans_raise_value_error() -> None:
    for kwargs in (
        {"baseline": 1.2, "mde": 0.02},
        {"baseline": 0.99, "mde": 0.02, "test": "one-sided"},
        {"baseline": 0.5, "mde": 0.0},
        {"baseline": 0.5, "mde": 0.1, "test": "non-inferiority"},
        {"baseline": 0.5, "mde": 0.1, "arms": 1},
    ):
        with pytest.raises(ValueError):
            plan_sample_size(**kwargs)  # type: ignore[arg-type]


def test_cli_prints_exact_figure_beside_the_rule_of_thumb() -> None:
    runner = CliRunner()
    out = runner.invoke(
        app, ["sample-size", "--baseline", "0.85", "--mde", "0.02", "--traffic-per-day", "5000"]
    )
    assert out.exit_code == 0, out.output
    # two-sided: powered against a rise (0.87) and a drop (0.83) alike; the drop needs more units
    assert "5,271 per arm" in out.output and "5,100 per arm" in out.output and "2.1 days" in out.output
    assert "0.85 → 0.87 or 0.85 → 0.83" in out.output
    skew = runner.invoke(app, ["sample-size", "--baseline", "0.85", "--mde", "0.02", "--ratio", "0.8/0.2"])
    plan = plan_sample_size(baseline=0.85, mde=0.02, weights=(0.8, 0.2))
    assert f"control {plan.n_per_arm[0]:,}, treatment {plan.n_per_arm[1]:,}" in skew.output
    ni = runner.invoke(
        app, ["sample-size", "--baseline", "0.85", "--mde", "0.02", "--non-inferiority", "--margin", "0.02"]
    )
    assert "3,942 per arm" in ni.output and "non-inferiority" in ni.output
    bad = runner.invoke(
        app, ["sample-size", "--baseline", "0.85", "--mde", "0.02", "--ratio", "80/20", "--arms", "3"]
    )
    assert bad.exit_code == 2 and "--arms" in bad.output
