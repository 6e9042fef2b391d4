"""A ``MessagesState`` chat graph with a checkpointer: multi-turn, and a rollback between turns."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph

from routing_agent import RoutingNode, RoutingState, routed_model
from routing_agent.control import Rollout
from routing_agent.testing import CapturedTelemetry
from tests.app_shapes.conftest import rollback
from tests.app_shapes.support import (
    EXPERIMENT,
    assert_calls,
    assert_rolled_back,
    chat_spans,
    observed_calls,
    span_count,
    unit_in,
)


class ChatState(RoutingState, MessagesState):
    session_id: str


def chat_app(router: RoutingNode) -> Any:
    def chatbot(state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        return {"messages": [routed_model(state, config).invoke(state["messages"])]}

    graph = StateGraph(ChatState)
    graph.add_node("route", router)
    graph.add_node("chatbot", chatbot)
    graph.add_edge(START, "route")
    graph.add_edge("route", "chatbot")
    return graph.compile(checkpointer=InMemorySaver())


def test_multi_turn_thread_keeps_candidate_then_follows_a_rollback(
    router: RoutingNode, telemetry: CapturedTelemetry
) -> None:
    app = chat_app(router)
    unit = unit_in(router.config, "candidate")
    config: RunnableConfig = {"configurable": {"thread_id": f"t-{unit}"}}
    for turn in ("hello", "and again"):
        out = app.invoke({"messages": [HumanMessage(turn)], "session_id": unit}, config)
        assert out["messages"][-1].content == "candidate"
    assert_calls(chat_spans(telemetry), model="script:candidate", variant="candidate")
    assert observed_calls(telemetry, unit) == {"candidate": 2}

    rollback(router)
    before = span_count(telemetry)
    out = app.invoke({"messages": [HumanMessage("turn 3")]}, config)  # session_id comes from the checkpoint
    assert out["messages"][-1].content == "control"
    assert out["routing"][EXPERIMENT]["variant"] == "candidate"  # the checkpoint still says candidate…
    assert_rolled_back(telemetry, before)
    assert observed_calls(telemetry, unit) == {"candidate": 2}  # …and the rolled-back call is not observed


def test_control_unit_and_typed_state_in_either_order(
    router: RoutingNode, telemetry: CapturedTelemetry
) -> None:
    class Reversed(MessagesState, RoutingState):
        session_id: str

    assert {"routing", "messages", "session_id"} <= set(Reversed.__annotations__)
    app = chat_app(router)
    unit = unit_in(router.config, "control")
    out = app.invoke(
        {"messages": [HumanMessage("hi")], "session_id": unit}, {"configurable": {"thread_id": unit}}
    )
    assert out["messages"][-1].content == "control"
    assert_calls(chat_spans(telemetry), model="script:control", variant="control", reason="hashed")
    assert observed_calls(telemetry, unit) == {"control": 1}


@pytest.mark.parametrize(
    ("action", "content", "variant", "reason"),
    [
        ("ship", "candidate", "candidate", "shipped"),
        ("stop", "default", None, "stopped"),
        ("pause", "candidate", "candidate", None),  # paused: assigned units keep their variant, observed
    ],
)
def test_ship_stop_pause_reach_a_checkpointed_thread(
    router: RoutingNode,
    telemetry: CapturedTelemetry,
    action: str,
    content: str,
    variant: str | None,
    reason: str | None,
) -> None:
    app = chat_app(router)
    unit = unit_in(router.config, "candidate")
    config: RunnableConfig = {"configurable": {"thread_id": f"t-{unit}"}}
    app.invoke({"messages": [HumanMessage("hello")], "session_id": unit}, config)
    rollout = Rollout(router.store, EXPERIMENT, known=True)
    if action == "ship":
        rollout.ship("candidate", actor="test", reason="wins")
    else:
        getattr(rollout, action)(actor="test", reason=action)
    before = span_count(telemetry)
    out = app.invoke({"messages": [HumanMessage("again")]}, config)
    assert out["messages"][-1].content == content
    (span,) = chat_spans(telemetry, before)
    attrs = span.attributes or {}
    assert attrs.get("routing_agent.variant") == variant
    assert attrs.get("routing_agent.reason") == (reason or "hashed")
    assert observed_calls(telemetry, unit) == ({"candidate": 2} if action == "pause" else {"candidate": 1})


def test_resume_after_a_rollback_returns_the_thread_to_its_variant(
    router: RoutingNode, telemetry: CapturedTelemetry
) -> None:
    app = chat_app(router)
    unit = unit_in(router.config, "candidate")
    config: RunnableConfig = {"configurable": {"thread_id": f"t-{unit}"}}
    app.invoke({"messages": [HumanMessage("hello")], "session_id": unit}, config)
    rollback(router)
    assert app.invoke({"messages": [HumanMessage("2")]}, config)["messages"][-1].content == "control"
    Rollout(router.store, EXPERIMENT, known=True).resume(actor="test", reason="fixed")
    assert app.invoke({"messages": [HumanMessage("3")]}, config)["messages"][-1].content == "candidate"
    assert observed_calls(telemetry, unit) == {"candidate": 2}
