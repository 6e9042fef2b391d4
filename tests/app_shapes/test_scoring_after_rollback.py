"""An inline ``ScoringNode`` in a checkpointed chat graph: after a rollback, the thread's next turn is not
scored into the candidate arm (its recorded assignment is checked against the live state)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph

from routing_agent import RoutingNode, RoutingState, ScoringNode, load_experiments_from_string, routed_model
from routing_agent.stores.observations import MemoryObservationStore
from tests.app_shapes.conftest import rollback
from tests.app_shapes.support import EXPERIMENT, YAML, unit_in

SCORED = YAML.replace(
    "UNIT_LINES",
    "scorers:\n      - {name: polite, type: exact, agent: chatbot, output_field: answer,\n"
    "         reference_field: expected}",
)


class State(RoutingState, MessagesState):
    session_id: str
    answer: str
    expected: str


def test_a_rolled_back_thread_is_not_scored(store_url: str) -> None:
    experiments = load_experiments_from_string(SCORED, source="scored.yaml")
    router = RoutingNode(experiments, store=store_url, state_refresh_s=0.0)
    sink = MemoryObservationStore()

    def chatbot(state: State, config: RunnableConfig) -> dict[str, Any]:
        reply = routed_model(state, config).invoke(state["messages"])
        return {"messages": [reply], "answer": str(reply.content)}

    graph = StateGraph(State)
    graph.add_node("route", router)
    graph.add_node("chatbot", chatbot)
    graph.add_node("score", ScoringNode(experiments.experiments[0], agent="chatbot", sink=sink))
    graph.add_edge(START, "route")
    graph.add_edge("route", "chatbot")
    graph.add_edge("chatbot", "score")
    app = graph.compile(checkpointer=InMemorySaver())
    unit = unit_in(experiments, "candidate")
    thread: RunnableConfig = {"configurable": {"thread_id": unit}}
    app.invoke({"messages": [HumanMessage("1")], "session_id": unit, "expected": "candidate"}, thread)
    assert [(o.variant, o.value) for o in sink.observations(EXPERIMENT, "polite")] == [("candidate", 1.0)]
    rollback(router)
    out = app.invoke({"messages": [HumanMessage("2")], "expected": "candidate"}, thread)
    assert out["answer"] == "control"
    assert [(o.variant, o.value) for o in sink.observations(EXPERIMENT, "polite")] == [("candidate", 1.0)]
    router.close()
