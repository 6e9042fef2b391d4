"""The reading order on data with a known truth: every decision kind, with the evidence a reviewer checks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from routing_agent.evaluation import DecisionKind, EvaluationSettings, evaluate
from routing_agent.stores.assignments.memory import MemoryStore
from routing_agent.stores.observations.sqlite import SQLiteObservationStore
from tests.evaluation.support import EXP, arm, make_spec

K = DecisionKind
GUARDRAILS = [
    {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3},
    {"metric": "refusal", "max_ratio_to_control": 2.0},
    {"metric": "cost_usd", "max_ratio_to_control": 1.0},
]


_FOLDER: list[Path] = []


@pytest.fixture(autouse=True)
def _store_folder(tmp_path: Path) -> None:
    _FOLDER[:] = [tmp_path]


def store_with(*arms: list) -> SQLiteObservationStore:  # type: ignore[type-arg]
    """A SQLite store in the test's temporary folder (aggregates in SQL, like the embedded default)."""
    store = SQLiteObservationStore(_FOLDER[0] / f"obs-{len(list(_FOLDER[0].glob('*.db')))}.db")
    for rows in arms:
        store.add(rows)
    return store


def test_better_by_more_than_the_mde_ships() -> None:
    spec = make_spec(guardrails=GUARDRAILS)
    obs = store_with(
        arm("control", 5000, seed=1, rate=0.87), arm("candidate", 5000, seed=2, rate=0.90, cost=0.008)
    )
    ev = evaluate(spec, observations=obs)
    d = ev.decision
    assert d.kind is K.SHIP and d.winner == "candidate", d.summary
    assert d.summary.startswith("Ship candidate") and "guardrails held (3 of 3)" in d.summary
    (c,) = ev.primary
    assert c.verdict == "win" and c.result is not None
    assert math.isclose(c.result.absolute_effect, 0.03, abs_tol=1e-12)  # exact counts
    assert ev.plan is not None and ev.plan.reached
    assert [r.split(":")[0] for r in d.reasons] == ["guardrails", "validity", "significance"]


def test_significant_but_below_the_mde_is_no_difference_and_keeps_the_dearer_control() -> None:
    spec = make_spec(primary_metric={"name": "resolved", "kind": "binary", "mde": 0.05, "baseline": 0.87})
    obs = store_with(
        arm("control", 8000, seed=1, rate=0.87, cost=0.01),
        arm("candidate", 8000, seed=2, rate=0.89, cost=0.01),
    )  # +0.02 is significant (z ≈ 3.9) but below the 0.05 MDE
    ev = evaluate(spec, observations=obs)
    assert ev.primary[0].verdict == "trivial"
    assert ev.decision.kind is K.NO_DIFFERENCE
    assert ev.decision.winner == "control"  # same cost: nothing significantly cheaper to switch to
    assert "below the MDE" in ev.decision.summary


def test_significantly_worse_rolls_back() -> None:
    obs = store_with(arm("control", 5000, seed=1, rate=0.87), arm("candidate", 5000, seed=2, rate=0.83))
    d = evaluate(make_spec(), observations=obs).decision
    assert d.kind is K.ROLLBACK and "significantly worse on the primary metric" in d.summary


def test_short_of_the_plan_keeps_running_with_units_and_days_to_go() -> None:
    obs = store_with(arm("control", 800, seed=1, rate=0.87), arm("candidate", 800, seed=2, rate=0.87))
    ev = evaluate(make_spec(), observations=obs, traffic_per_day=1000.0)
    d = ev.decision
    assert d.kind is K.KEEP_RUNNING
    assert ev.plan is not None
    planned = ev.plan.planned["control"]
    # exact two-sided plan: 80% power against 0.87 → 0.89 and against 0.87 → 0.85 (the drop binds)
    assert planned == 4722 and ev.plan.plan is not None and ev.plan.plan.rule_of_thumb_per_arm == 4524
    assert d.sample_needed == planned - 800
    # 1,000 enrolled units a day split 50/50: 3,922 more per arm take 7.844 days
    assert d.days_remaining is not None and math.isclose(d.days_remaining, 2 * (planned - 800) / 1000)
    assert "7.8 days" in d.summary


def test_days_remaining_from_the_observed_arrival_rate() -> None:
    obs = store_with(
        arm("control", 400, seed=1, seconds_per_unit=86.4),
        arm("candidate", 400, seed=2, seconds_per_unit=86.4),
    )  # 1,000 units a day per arm, 2,000 in all
    ev = evaluate(make_spec(), observations=obs)
    assert ev.plan is not None and ev.plan.traffic_per_day is not None
    assert math.isclose(ev.plan.traffic_per_day, 2000.0, rel_tol=0.01)
    assert ev.decision.days_remaining is not None
    assert math.isclose(ev.decision.days_remaining, 2 * (4722 - 400) / 2000, rel_tol=0.01)


def test_early_win_under_the_always_valid_test_only_when_it_clears_the_mde() -> None:
    spec = make_spec(primary_metric={"name": "resolved", "kind": "binary", "mde": 0.02, "baseline": 0.5})
    obs = store_with(arm("control", 2500, seed=1, rate=0.50), arm("candidate", 2500, seed=2, rate=0.62))
    ev = evaluate(spec, observations=obs)
    assert ev.plan is not None and not ev.plan.reached  # 9,800 per arm planned
    assert ev.primary[0].verdict == "win" and ev.primary[0].early
    assert ev.decision.kind is K.SHIP
    off = evaluate(spec, observations=obs, settings=EvaluationSettings(early_stopping=False))
    assert off.decision.kind is K.KEEP_RUNNING


def test_non_inferiority_ships_when_shown_and_rolls_back_when_not() -> None:
    ni = {"name": "resolved", "kind": "binary", "mde": 0.02, "baseline": 0.87, "test": "non_inferiority",
          "margin": 0.03}  # fmt: skip
    spec = make_spec(primary_metric=ni)
    same = store_with(arm("control", 4000, seed=1, rate=0.87), arm("candidate", 4000, seed=2, rate=0.87))
    ev = evaluate(spec, observations=same)
    assert ev.primary[0].verdict == "non_inferior" and ev.decision.kind is K.SHIP
    worse = store_with(arm("control", 4000, seed=1, rate=0.87), arm("candidate", 4000, seed=2, rate=0.85))
    d = evaluate(spec, observations=worse).decision
    assert d.kind is K.ROLLBACK and "not shown non-inferior" in d.summary


def test_no_difference_picks_the_significantly_cheaper_variant_with_its_interval() -> None:
    obs = store_with(
        arm("control", 5000, seed=1, rate=0.87, cost=0.042),
        arm("candidate", 5000, seed=2, rate=0.868, cost=0.01),
    )
    primary = {"name": "resolved", "kind": "binary", "mde": 0.02, "baseline": 0.87, "margin": 0.02}
    ev = evaluate(make_spec(guardrails=GUARDRAILS, primary_metric=primary), observations=obs)
    d = ev.decision
    assert d.kind is K.NO_DIFFERENCE and d.winner == "candidate", d.summary
    assert ev.primary[0].ni is not None and ev.primary[0].shown_non_inferior
    assert "non-inferior at margin 0.0200" in d.summary
    assert ev.cost is not None
    ratio, low, high = ev.cost.times_cheaper("candidate")  # type: ignore[misc]
    assert 3.9 < low < ratio < high < 4.5
    assert "candidate costs 4." in d.summary and "less per unit" in d.summary


def test_multi_arm_holm_ships_the_best_winning_arm() -> None:
    spec = make_spec(
        variants=[
            {"name": "control", "model": "m:c", "control": True},
            {"name": "a", "model": "m:a"},
            {"name": "b", "model": "m:b"},
        ]
    )
    obs = store_with(
        arm("control", 6000, seed=1, rate=0.87),
        arm("a", 6000, seed=2, rate=0.87),
        arm("b", 6000, seed=3, rate=0.905),
    )
    ev = evaluate(spec, observations=obs)
    assert ev.plan is not None and ev.plan.plan is not None and ev.plan.plan.correction == "bonferroni"
    verdicts = {c.variant: c.verdict for c in ev.primary}
    assert verdicts == {"a": "no_difference", "b": "win"}
    raw = {c.variant: c.result.p_value for c in ev.primary if c.result}
    adjusted = {c.variant: c.adjusted_p_value for c in ev.primary}
    assert adjusted["b"] == pytest.approx(2 * raw["b"])  # Holm: the smallest p is multiplied by 2
    assert ev.decision.kind is K.SHIP and ev.decision.winner == "b"


def test_a_win_that_loses_on_a_declared_segment_is_a_segmentation_decision() -> None:
    spec = make_spec(segments=["tier"])
    tiers = {"tier": ["free", "paid"]}
    obs = store_with(
        arm("control", 8000, seed=1, rate=0.87, segments=tiers, segment_rates={"free": 0.80, "paid": 0.94}),
        arm("candidate", 8000, seed=2, rate=0.9, segments=tiers, segment_rates={"free": 0.93, "paid": 0.89}),
    )
    ev = evaluate(spec, observations=obs)
    assert ev.primary[0].verdict == "win"
    d = ev.decision
    assert d.kind is K.SEGMENTATION and d.winner == "candidate"
    assert d.evidence["segments_worse"] == [{"key": "tier", "value": "paid"}]
    assert "significantly worse on tier=paid" in d.summary


def test_sample_ratio_mismatch_on_assignment_counts_is_invalid() -> None:
    assignments = MemoryStore()
    for i in range(1100):
        assignments.get_or_set(EXP, f"c{i}", "control")
    for i in range(900):
        assignments.get_or_set(EXP, f"t{i}", "candidate")
    obs = store_with(arm("control", 1000, seed=1), arm("candidate", 1000, seed=2))
    d = evaluate(make_spec(), observations=obs, assignments=assignments).decision
    assert d.kind is K.INVALID and "sample-ratio mismatch" in d.summary
    assert d.evidence["checks"]["srm"] is False


@pytest.mark.parametrize(("unpriced", "judge_invalid", "kind"), [(0.10, 0.0, K.INVALID), (0.02, 0.0, K.SHIP)])
def test_unpriced_calls_above_the_threshold_are_invalid(
    unpriced: float, judge_invalid: float, kind: K
) -> None:
    obs = store_with(
        arm("control", 5000, seed=1, rate=0.87), arm("candidate", 5000, seed=2, rate=0.90, unpriced=unpriced)
    )
    assert evaluate(make_spec(), observations=obs).decision.kind is kind


def test_too_many_invalid_judge_verdicts_are_invalid_with_a_configurable_threshold() -> None:
    from routing_agent.stores.observations import Observation

    obs = store_with(arm("control", 5000, seed=1, rate=0.87), arm("candidate", 5000, seed=2, rate=0.90))
    obs.add(
        [Observation(EXP, v, f"{v}-{i}", "quality.invalid", float(v == "candidate" and i % 5 == 0))
         for v in ("control", "candidate") for i in range(1000)]
    )  # fmt: skip
    d = evaluate(make_spec(), observations=obs).decision
    assert d.kind is K.INVALID and "invalid judge verdicts of 'quality' in candidate: 20.0%" in d.summary
    lenient = EvaluationSettings(max_invalid_judge_rate=0.25)
    assert evaluate(make_spec(), observations=obs, settings=lenient).decision.kind is K.SHIP


def test_guardrail_breach_rolls_back_even_when_the_primary_wins_and_the_data_is_invalid() -> None:
    obs = store_with(
        arm("control", 3000, seed=1, rate=0.87, latency=1.0, calls=3),
        arm("candidate", 3000, seed=2, rate=0.92, latency=2.0, unpriced=0.5, calls=3),
    )
    ev = evaluate(make_spec(guardrails=GUARDRAILS), observations=obs)
    d = ev.decision
    assert d.kind is K.ROLLBACK, d.summary
    (p95,) = [g for g in d.breached]
    assert p95.metric == "latency_s" and p95.statistic == "p95" and p95.ratio is not None
    assert 1.8 < p95.ratio < 2.2 and p95.ci_low is not None and p95.ci_low > 1.3
    assert p95.p_value is not None and p95.p_value < 0.05
    assert d.summary.startswith("Roll back: candidate's p95 latency_s is ") and "(bound ≤ 1.3×;" in d.summary


def test_no_breach_before_the_minimum_sample_and_alerts_do_not_stop() -> None:
    few = store_with(
        arm("control", 100, seed=1, latency=1.0, calls=3), arm("candidate", 100, seed=2, latency=3.0, calls=3)
    )
    g = [{"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3, "min_sample": 150}]
    ev = evaluate(make_spec(guardrails=g), observations=few)
    (result,) = ev.decision.guardrails
    assert result.breached and not result.enough_sample and ev.decision.kind is K.KEEP_RUNNING
    alert = [{**g[0], "min_sample": 50, "action": "alert"}]
    d = evaluate(make_spec(guardrails=alert), observations=few).decision
    assert d.guardrails[0].breached and d.guardrails[0].enough_sample and d.kind is K.KEEP_RUNNING
    assert "breached (alert only)" in d.reasons[0]


def test_a_refusing_candidate_breaches_even_when_control_never_refuses() -> None:
    """``≤ 2× control`` with a control refusal rate of 0 means "no refusals": the contrast test sees it."""
    g = [{"metric": "refusal", "max_ratio_to_control": 2.0}]
    obs = store_with(
        arm("control", 1000, seed=1, refusal=0.0, calls=3),
        arm("candidate", 1000, seed=2, refusal=0.05, calls=3),
    )
    (result,) = evaluate(make_spec(guardrails=g), observations=obs).decision.guardrails
    assert result.control_value == 0.0 and result.ratio is None and result.breached and result.enough_sample


def test_absolute_guardrail_on_the_test_arm() -> None:
    from routing_agent.stores.observations import Observation

    g = [{"metric": "json_valid", "min": 0.90}]
    obs = store_with(arm("control", 400, seed=1), arm("candidate", 400, seed=2))
    obs.add(
        [Observation(EXP, "candidate", f"candidate-{i}", "json_valid", float(i % 5 != 0)) for i in range(400)]
    )
    obs.add([Observation(EXP, "control", f"control-{i}", "json_valid", 1.0) for i in range(400)])
    (result,) = evaluate(make_spec(guardrails=g), observations=obs).decision.guardrails
    assert result.kind == "absolute" and result.test_value == pytest.approx(0.8)
    assert result.breached and result.ci_high is not None and result.ci_high < 0.9


async def test_async_twin_gives_the_same_decision() -> None:
    from routing_agent.evaluation import aevaluate

    obs = store_with(arm("control", 3000, seed=1, rate=0.87), arm("candidate", 3000, seed=2, rate=0.87))
    spec = make_spec()
    sync, async_ = evaluate(spec, observations=obs, now=1.0), await aevaluate(spec, observations=obs, now=1.0)
    assert async_.decision.to_json() == sync.decision.to_json()
