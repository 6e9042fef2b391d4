"""Plans in the direction the decision needs, valid near 0/1, with honest power and validated arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.stats import (
    SampleSummary,
    compare_proportions,
    non_inferiority,
    plan_sample_size,
    power_proportions,
)


def _rejection_rate(
    rng: np.random.Generator, p_c: float, p_t: float, n: int, runs: int, **ni: float
) -> float:
    hits = 0
    for xc, xt in zip(rng.binomial(n, p_c, runs), rng.binomial(n, p_t, runs), strict=True):
        c, t = SampleSummary.from_counts(int(xc), n), SampleSummary.from_counts(int(xt), n)
        if ni:
            hits += non_inferiority(
                c, t, margin=ni["margin"], kind="proportion", alpha=ni["alpha"]
            ).significant
        else:
            hits += compare_proportions(c, t).significant
    return hits / runs


def test_two_sided_plan_is_powered_against_a_drop_as_well_as_a_rise() -> None:
    rise_only = plan_sample_size(baseline=0.85, mde=0.02, cover="improvement")
    # the regression: the rise-only size has ~75 % power against a 2 pp drop
    assert power_proportions(0.85, 0.83, *rise_only.n_per_arm) < 0.77
    plan = plan_sample_size(baseline=0.85, mde=0.02)
    assert plan.covered == (0.02, -0.02)
    for rate in (0.87, 0.83):
        assert power_proportions(0.85, rate, *plan.n_per_arm) >= 0.8
    assert plan.achieved_power >= 0.8


def test_planned_power_against_a_drop_holds_by_simulation() -> None:
    plan = plan_sample_size(baseline=0.85, mde=0.02)
    runs = 1000
    rate = _rejection_rate(np.random.default_rng(21), 0.85, 0.83, plan.n_per_arm[0], runs)
    assert rate >= 0.8 - 3 * math.sqrt(0.8 * 0.2 / runs), rate


def test_near_one_gives_a_finite_plan_that_keeps_its_power() -> None:
    plan = plan_sample_size(baseline=0.995, mde=0.005, traffic_per_day=1000)
    assert plan.score and plan.covered == (0.005, -0.005)
    assert 0 < plan.total < 100_000 and plan.days is not None and plan.days > 0
    n, runs = plan.n_per_arm[0], 400
    rng = np.random.default_rng(22)
    for truth in (1.0, 0.99):  # the rise to the boundary and the drop
        rate = _rejection_rate(rng, 0.995, truth, n, runs)
        assert rate >= 0.8 - 3 * math.sqrt(0.8 * 0.2 / runs), (truth, rate)
    ni = plan_sample_size(baseline=0.995, mde=0.005, test="non-inferiority", margin=0.005)
    assert ni.covered == (0.0,) and ni.n_per_arm[0] > 0


def test_non_inferiority_plan_keeps_its_power_at_the_alpha_the_decision_uses() -> None:
    # the decision tests non-inferiority one-sided at alpha/2: plan it there, check by simulation
    plan = plan_sample_size(baseline=0.85, mde=0.02, test="non-inferiority", margin=0.02, alpha=0.025)
    runs = 800
    rate = _rejection_rate(
        np.random.default_rng(23), 0.85, 0.85, plan.n_per_arm[0], runs, margin=0.02, alpha=0.025
    )
    assert rate >= 0.8 - 3 * math.sqrt(0.8 * 0.2 / runs), rate


def test_a_move_past_the_boundary_is_left_out_and_said() -> None:
    plan = plan_sample_size(baseline=0.99, mde=0.02)
    assert plan.covered == (-0.02,) and "leaves [0, 1]" in plan.note
    assert any("note:" in line for line in plan.describe())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--baseline", "10", "--mde", "1", "--sd", "nan"], "sd must be a finite number"),
        (["--baseline", "0.5", "--mde", "0.1", "--alpha", "0.9", "--power", "0.05"], "is not above alpha"),
        (
            ["--baseline", "0.5", "--mde", "0.1", "--traffic-per-day", "-100"],
            "traffic per day must be positive",
        ),
        (["--baseline", "0.5", "--mde", "inf"], "mde must be a finite number"),
        (["--baseline", "0.5", "--mde", "0.1", "--alpha", "1.5"], "alpha must be between 0 and 1"),
        (["--baseline", "0.5", "--mde", "0.1", "--non-inferiority"], "needs a positive margin"),
        (["--baseline", "10", "--mde", "1", "--sd", "-2"], "sd must be positive"),
    ],
)
def test_cli_arguments_are_checked_with_our_own_messages(args: list[str], message: str) -> None:
    out = CliRunner().invoke(app, ["sample-size", *args])
    assert out.exit_code == 2, out.output
    assert message in out.output
    for scipy_text in ("f(a) and f(b)", "solver cannot continue", "NaN", "nan "):
        assert scipy_text not in out.output


def test_cli_durations_are_never_negative() -> None:
    out = CliRunner().invoke(
        app, ["sample-size", "--baseline", "0.5", "--mde", "0.1", "--traffic-per-day", "250"]
    )
    assert out.exit_code == 0 and "duration:" in out.output and "-" not in out.output.split("duration:")[1]


def _evaluate_plan(primary: dict[str, object], traffic_per_day: float | None = None) -> object:
    from routing_agent.evaluation.evaluator import evaluate
    from routing_agent.stores.observations import MemoryObservationStore
    from tests.evaluation.support import arm, make_spec

    spec = make_spec(primary_metric=primary)
    store = MemoryObservationStore()
    store.add(arm("control", 300, seed=1) + arm("candidate", 300, seed=2))
    return evaluate(spec, observations=store, traffic_per_day=traffic_per_day).plan


def test_the_evaluators_plan_for_a_non_inferiority_primary_uses_the_decisions_alpha() -> None:
    primary = {"name": "resolved", "kind": "binary", "mde": 0.02, "baseline": 0.87}
    ni = _evaluate_plan({**primary, "test": "non_inferiority", "margin": 0.02})
    assert ni.plan is not None and ni.plan.test == "non-inferiority"  # type: ignore[attr-defined]
    assert ni.plan.alpha == 0.025  # type: ignore[attr-defined]  # one-sided at alpha/2
    expected = plan_sample_size(baseline=0.87, mde=0.02, test="non-inferiority", margin=0.02, alpha=0.025)
    assert ni.planned["control"] == expected.n_per_arm[0]  # type: ignore[attr-defined]
    sup = _evaluate_plan(primary)
    assert sup.plan is not None and sup.plan.covered == (0.02, -0.02)  # type: ignore[attr-defined]


@pytest.mark.parametrize("traffic", [-500.0, 0.0])
def test_the_evaluators_plan_never_gives_a_negative_duration(traffic: float) -> None:
    plan = _evaluate_plan({"name": "resolved", "kind": "binary", "mde": 0.02, "baseline": 0.87}, traffic)
    assert plan.traffic_per_day is None or plan.traffic_per_day > 0  # type: ignore[attr-defined]
    days = plan.days_remaining({"control": 0.5, "candidate": 0.5})  # type: ignore[attr-defined]
    assert days is None or days >= 0
