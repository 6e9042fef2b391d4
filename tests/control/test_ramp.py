"""Progressive ramp 5 → 20 → 50 % with the real evaluator, a real Redis and a LangGraph routing node.

Each step serves new sessions through the routing node, records each enrolled unit's latency in a Redis
observation store, and lets ``watch`` tick once. With a candidate as fast as control the ramp advances step
by step and the candidate's share of new sessions follows the step; with a candidate 3× slower from the
20 % step on, the p95 guardrail breaches and ``watch`` rolls back. No unit assigned at one step ever gets
another variant at a later step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from routing_agent.assignment.types import Reason
from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec
from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.ramp import RAMP_COUNTS
from routing_agent.control.ticks import TickAction
from routing_agent.control.watch import Watcher, WatchSettings
from routing_agent.evaluation.watching import WatchEvaluator
from routing_agent.graph import RoutingNode
from routing_agent.stores.assignments.redis import RedisStore
from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.redis import RedisObservationStore

EXP = "ramped"


def ramp_spec(steps: list[float], weights: tuple[int, int] = (50, 50)) -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        {
            "id": EXP,
            "variants": [
                {"name": "control", "model": "echo:control-model", "control": True, "weight": weights[0]},
                {"name": "candidate", "model": "echo:candidate-model", "weight": weights[1]},
            ],
            "guardrails": [
                {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3, "min_sample": 20}
            ],
            "ramp": {"steps": steps, "min_units_per_arm": 20},
        }
    )


class Harness:
    """One routing node, one watcher, the shared stores; serves sessions and remembers every assignment."""

    def __init__(self, redis_url: str, prefix: str, spec: ExperimentSpec) -> None:
        self.spec = spec
        config = ExperimentsConfig(experiments=(spec,))
        self.store = RedisStore.from_url(redis_url, prefix=prefix, timeout_s=2.0)
        self.watch_store = RedisStore.from_url(redis_url, prefix=prefix, timeout_s=2.0)
        self.obs = RedisObservationStore.from_url(redis_url, prefix=prefix)
        self.node = RoutingNode(config, store=self.store, state_refresh_s=0.0)
        self.watcher = Watcher(spec, self.watch_store, WatchEvaluator(self.obs, self.watch_store),
                               WatchSettings(every_s=60.0))  # fmt: skip
        self.assigned: dict[str, str] = {}
        self.rng = np.random.default_rng(7)
        self.n = 0

    def serve(self, sessions: int, slow: float = 1.0) -> dict[str, int]:
        """Route ``sessions`` new units; record latency for the enrolled ones; returns variants → count."""
        seen: dict[str, int] = {}
        for _ in range(sessions):
            unit = f"u{self.n}"
            self.n += 1
            record = self.node.invoke({"session_id": unit})["routing"][EXP]
            variant = record["variant"]
            seen[str(variant)] = seen.get(str(variant), 0) + 1
            if variant is None:
                assert record["reason"] == Reason.NOT_ENROLLED.value
                continue
            assert record["reason"] == Reason.HASHED.value
            self.assigned[unit] = variant
            latency = float(self.rng.lognormal(0.0, 0.25)) * (slow if variant == "candidate" else 1.0)
            self.obs.add([Observation(EXP, variant, unit, "latency_s", latency, id=f"{unit}:lat")])
        return seen

    def revisit_all(self) -> None:
        """Every unit assigned so far keeps its variant (a fresh request of the same session)."""
        for unit, variant in self.assigned.items():
            record = self.node.invoke({"session_id": unit})["routing"][EXP]
            assert record["variant"] == variant, (unit, record)
            assert record["reason"] == Reason.STICKY.value

    def close(self) -> None:
        self.node.close()
        self.obs.close()
        self.watch_store.close()


def _share_ok(seen: dict[str, int], percent: float) -> None:
    total = sum(seen.values())
    expected = total * percent / 100
    sd = math.sqrt(total * percent / 100 * (1 - percent / 100))
    assert abs(seen.get("candidate", 0) - expected) <= 5 * sd + 1, (seen, percent)
    assert abs(seen.get("control", 0) - expected) <= 5 * sd + 1, (seen, percent)  # split kept 50/50


def test_ramp_advances_while_guardrails_hold_and_no_unit_flips(redis_url: str, redis_prefix: str) -> None:
    h = Harness(redis_url, redis_prefix, ramp_spec([5, 20, 50]))
    try:
        first = h.serve(800)
        _share_ok(first, 5)
        tick = h.watcher.tick()
        assert tick.action is TickAction.RAMPED and tick.changed, tick.line()
        assert tick.state is not None and tick.state.evidence["ramp_step"] == 1
        h.revisit_all()

        second = h.serve(300)
        _share_ok(second, 20)
        tick = h.watcher.tick()
        assert tick.action is TickAction.RAMPED, tick.line()
        h.revisit_all()

        third = h.serve(200)
        _share_ok(third, 50)
        assert third.get("None", 0) == 0  # 50 % on the candidate = everyone enrolled
        h.revisit_all()

        history = h.watch_store.history(EXP)
        assert [s.evidence.get("ramp_step") for s in history] == [1, 2]
        assert all(s.status is S.RUNNING and s.actor.startswith("watch@") for s in history)
        assert set(history[1].evidence[RAMP_COUNTS]) == {"control", "candidate"}
    finally:
        h.close()


def test_ramp_waits_for_new_units_at_each_step(redis_url: str, redis_prefix: str) -> None:
    h = Harness(redis_url, redis_prefix, ramp_spec([5, 20, 50]))
    try:
        h.serve(800)
        assert h.watcher.tick().action is TickAction.RAMPED
        tick = h.watcher.tick()  # nothing new served at 20 %: the step must not advance yet
        assert tick.action is TickAction.NONE and "new units per arm" in tick.message, tick.line()
        assert h.watch_store.get_state(EXP).evidence["ramp_step"] == 1  # type: ignore[union-attr]
    finally:
        h.close()


def test_a_breach_at_20_percent_rolls_back_and_no_unit_flips_before(
    redis_url: str, redis_prefix: str
) -> None:
    h = Harness(redis_url, redis_prefix, ramp_spec([5, 20, 50]))
    try:
        h.serve(800)
        assert h.watcher.tick().action is TickAction.RAMPED
        h.revisit_all()
        before = dict(h.assigned)
        h.serve(1200, slow=3.0)  # the candidate turns slow once it gets 20 % of the traffic
        tick = h.watcher.tick()
        assert tick.action is TickAction.ROLLED_BACK and tick.changed, tick.line()
        state = h.watch_store.get_state(EXP)
        assert state is not None and state.status is S.ROLLED_BACK
        # after the rollback every unit, including those that had the candidate, gets control
        for unit in list(before)[:50]:
            record = h.node.invoke({"session_id": unit})["routing"][EXP]
            assert (record["variant"], record["reason"]) == ("control", Reason.ROLLED_BACK.value)
        assert h.watcher.tick().action is TickAction.TERMINAL  # watch stops; the ramp never resumes itself
    finally:
        h.close()


def test_ramp_steps_are_validated() -> None:
    with pytest.raises(ValueError, match="exceeds the candidates' weight"):
        ramp_spec([5, 20, 50], (80, 20))  # 50 % on the candidate needs a candidate weight of at least 50
    with pytest.raises(ValueError, match="increasing"):
        ramp_spec([20, 5])
