"""After a rollback (or a ship), units are placed, not randomized: traced, but never observed."""

from __future__ import annotations

from routing_agent import ExperimentStatus
from routing_agent.testing import MemoryStore, capture_telemetry
from tests.support.echo_graph import CONFIG, build


def test_rolled_back_and_shipped_units_are_traced_but_not_observed() -> None:
    store = MemoryStore()
    graph = build(store, state_refresh_s=0.0)
    with capture_telemetry(config=CONFIG) as telemetry:
        for i in range(10):
            graph.invoke({"session_id": f"before-{i}"})
        store.set_state("exp", ExperimentStatus.ROLLED_BACK, actor="test", reason="guardrail")
        for i in range(10):
            assert graph.invoke({"session_id": f"rb-{i}"})["answer"] == "big"
        store.set_state("exp", ExperimentStatus.SHIPPED, actor="test", reason="approved", winner="candidate")
        for i in range(10):
            assert graph.invoke({"session_id": f"ship-{i}"})["answer"] == "small"
    reasons = [s.attributes["routing_agent.reason"] for s in telemetry.spans("chat")]
    assert reasons.count("rolled_back") == 10 and reasons.count("shipped") == 10
    observed_units = {o.unit_id for o in telemetry.observed("exp", "calls")}
    assert observed_units == {f"before-{i}" for i in range(10)}
