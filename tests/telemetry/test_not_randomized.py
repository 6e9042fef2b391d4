"""After a rollback (or a ship), units are placed, not randomized: traced, but never observed."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from routing_agent import ExperimentStatus, RoutingNode, RoutingState, routed_model
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.testing import MemoryStore, capture_telemetry, echo_catalog

CONFIG = ExperimentsConfig.model_validate(
    {
        "experiments": [
            {
                "id": "exp",
                "variants": [
                    {"name": "control", "model": "echo:big", "control": True},
                    {"name": "candidate", "model": "echo:small"},
                ],
            }
        ]
    }
)


class State(RoutingState, total=False):
    session_id: str
    answer: str


def build(store: MemoryStore) -> Any:
    models = echo_catalog()

    def agent(state: State, config: RunnableConfig) -> dict[str, Any]:
        return {"answer": routed_model(state, config, models=models).invoke("hi").content}

    g = StateGraph(State)
    g.add_node("route", RoutingNode(CONFIG, store=store, state_refresh_s=0.0))
    g.add_node("agent", agent)
    g.add_edge(START, "route")
    g.add_edge("route", "agent")
    g.add_edge("agent", END)
    return g.compile()


def test_rolled_back_and_shipped_units_are_traced_but_not_observed() -> None:
    store = MemoryStore()
    graph = build(store)
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
