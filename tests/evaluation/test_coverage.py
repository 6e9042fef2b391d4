"""The coverage check: outcomes stop arriving for one arm → the evaluation is invalid and ``watch`` alarms.

Units are routed by a real routing node over a real Redis assignment store; the primary outcome is recorded
with ``record_outcome`` into a Redis observation store. Halfway through, the candidate's outcomes stop (its
outcome recorder "breaks"), while control's keep arriving.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from routing_agent import record_outcome
from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec
from routing_agent.control.ticks import TickAction
from routing_agent.control.watch import Watcher, WatchSettings
from routing_agent.evaluation import evaluate
from routing_agent.evaluation.attrition import Attrition
from routing_agent.evaluation.coverage import coverage_check
from routing_agent.evaluation.decision import DecisionKind
from routing_agent.evaluation.settings import EvaluationSettings
from routing_agent.evaluation.watching import WatchEvaluator
from routing_agent.graph import RoutingNode
from routing_agent.stores.assignments.redis import RedisStore
from routing_agent.stores.observations.redis import RedisObservationStore

EXP = "covered"


def spec() -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        {
            "id": EXP,
            "variants": [
                {"name": "control", "model": "echo:a", "control": True},
                {"name": "candidate", "model": "echo:b"},
            ],
            "primary_metric": {"name": "resolved", "kind": "binary", "direction": "increase", "mde": 0.05},
        }
    )


def _serve(node: RoutingNode, obs: RedisObservationStore, units: range, *, candidate_outcomes: bool) -> None:
    rng = np.random.default_rng(units.start)
    for i in units:
        state = {"session_id": f"s{i}"}
        state.update(node.invoke(state))
        variant = state["routing"][EXP]["variant"]
        if variant == "candidate" and not candidate_outcomes:
            continue  # the candidate's outcome recorder stopped
        assert record_outcome(EXP, "resolved", float(rng.random() < 0.6), state, observations=obs)


@pytest.fixture
def served(redis_url: str, redis_prefix: str):  # type: ignore[no-untyped-def]
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    obs = RedisObservationStore.from_url(redis_url, prefix=redis_prefix)
    node = RoutingNode(ExperimentsConfig(experiments=(spec(),)), store=store)
    yield node, store, obs
    node.close()
    obs.close()


def test_outcomes_complete_pass_the_coverage_check(served) -> None:  # type: ignore[no-untyped-def]
    node, store, obs = served
    _serve(node, obs, range(400), candidate_outcomes=True)
    result = evaluate(spec(), observations=obs, assignments=store)
    check = next(c for c in result.checks if c.name == "coverage")
    assert check.passed, check.message


def test_outcomes_stop_for_one_arm_the_check_fires_and_watch_alarms(served, caplog) -> None:  # type: ignore[no-untyped-def]
    node, store, obs = served
    _serve(node, obs, range(200), candidate_outcomes=True)
    _serve(node, obs, range(200, 800), candidate_outcomes=False)
    result = evaluate(spec(), observations=obs, assignments=store)
    check = next(c for c in result.checks if c.name == "coverage")
    assert not check.passed
    assert "candidate" in check.message and "coverage gap" in check.message
    assert check.detail["coverage"]["control"] == pytest.approx(1.0)
    assert check.detail["coverage"]["candidate"] < 0.5
    assert result.decision.kind is DecisionKind.INVALID

    ticks = []
    watcher = Watcher(
        spec(), store, WatchEvaluator(obs, store), WatchSettings(every_s=60), on_tick=ticks.append
    )
    with caplog.at_level(logging.WARNING, logger="routing_agent.control"):
        tick = watcher.tick()
    assert tick.action is TickAction.NONE and tick.decision is not None
    assert tick.decision.kind is DecisionKind.INVALID
    alarms = [r for r in caplog.records if r.levelno >= logging.WARNING and "coverage" in r.getMessage()]
    assert alarms, [r.getMessage() for r in caplog.records]
    assert store.get_state(EXP) is None  # nothing moved


def test_coverage_rules() -> None:
    settings = EvaluationSettings()
    ok = Attrition("m", "failure", {"control": 100, "candidate": 100}, {"control": 90, "candidate": 80}, 0.0)
    assert coverage_check(ok, settings).passed
    nothing = Attrition("m", "failure", {"control": 500, "candidate": 500}, {}, 0.0)  # simulate's old bug
    assert not coverage_check(nothing, settings).passed
    lagging = Attrition(
        "m", "failure", {"control": 100, "candidate": 100}, {"control": 90, "candidate": 40}, 0.0
    )
    assert not coverage_check(lagging, settings).passed
    few = Attrition("m", "failure", {"control": 10, "candidate": 10}, {"control": 9, "candidate": 0}, 0.0)
    assert coverage_check(few, settings).passed  # too few units to judge
