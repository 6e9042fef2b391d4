"""The public ``routing_agent.testing`` helpers work the way their docstrings promise."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from routing_agent import RoutingNode, RoutingState, routed_model
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.testing import MemoryStore, capture_telemetry, echo_catalog, variants_seen

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


def build() -> Any:
    models = echo_catalog()

    def agent(state: State, config: RunnableConfig) -> dict[str, Any]:
        return {"answer": routed_model(state, config, models=models).invoke("hi").content}

    g = StateGraph(State)
    g.add_node("route", RoutingNode(CONFIG, store=MemoryStore()))
    g.add_node("agent", agent)
    g.add_edge(START, "route")
    g.add_edge("route", "agent")
    g.add_edge("agent", END)
    return g.compile()


def test_capture_telemetry_records_spans_and_observations_per_variant() -> None:
    graph = build()
    with capture_telemetry(config=CONFIG) as telemetry:
        outputs = [graph.invoke({"session_id": f"s{i}"}) for i in range(20)]
    assert variants_seen(outputs, "exp") == {"control", "candidate"}
    for out in outputs:  # the echo model answers with its own name
        assert out["answer"] == {"control": "big", "candidate": "small"}[out["routing"]["exp"]["variant"]]
    chats = telemetry.spans("chat")
    assert len(chats) == 20
    by_unit = {s.attributes["routing_agent.unit_id"]: s.attributes["routing_agent.variant"] for s in chats}
    assert by_unit == {f"s{i}": out["routing"]["exp"]["variant"] for i, out in enumerate(outputs)}
    calls = telemetry.observed("exp", "calls")
    assert len(calls) == 20 and {o.unit_id for o in calls} == set(by_unit)
