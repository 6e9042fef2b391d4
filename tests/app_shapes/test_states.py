"""Routing works with every state schema users have, through the one ``routing`` channel."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain.agents import AgentState
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, MessagesState, StateGraph
from pydantic import BaseModel

from routing_agent import Routing, RoutingNode, RoutingState, routed_model
from routing_agent.testing import CapturedTelemetry
from tests.app_shapes.support import assert_calls, chat_spans, observed_calls, span_count, unit_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from langgraph.prebuilt.chat_agent_executor import AgentState as PrebuiltAgentState


class PlainTyped(RoutingState, total=False):
    session_id: str
    messages: list[Any]


class Messages(RoutingState, MessagesState):
    session_id: str


class MessagesFirst(MessagesState, RoutingState):
    session_id: str


class LangChainAgent(RoutingState, AgentState):  # type: ignore[type-arg]
    session_id: str


class PrebuiltAgent(PrebuiltAgentState, RoutingState):
    session_id: str


class ChannelOnly(MessagesState):  # no mixin: the annotated channel added to any state
    routing: Routing
    session_id: str


class PydanticState(BaseModel):
    session_id: str
    messages: list[Any] = []
    routing: Routing = {}


@dataclass
class DataclassState:
    session_id: str
    messages: list[Any] = field(default_factory=list)
    routing: Routing = field(default_factory=dict)


STATES = [
    PlainTyped,
    Messages,
    MessagesFirst,
    LangChainAgent,
    PrebuiltAgent,
    ChannelOnly,
    PydanticState,
    DataclassState,
]


def _messages(state: Any) -> list[Any]:
    return list(state["messages"] if isinstance(state, dict) else state.messages)


@pytest.mark.parametrize("schema", STATES, ids=lambda s: s.__name__)
def test_every_state_schema_routes(schema: type, router: RoutingNode, telemetry: CapturedTelemetry) -> None:
    def agent(state: Any, config: RunnableConfig) -> dict[str, Any]:
        reply = routed_model(state, config).invoke(_messages(state) or "hi")
        return {"messages": [*_messages(state), reply]}

    graph: StateGraph[Any] = StateGraph(schema)
    graph.add_node("route", router)
    graph.add_node("agent", agent)
    graph.add_edge(START, "route")
    graph.add_edge("route", "agent")
    app = graph.compile()
    for variant in ("candidate", "control"):
        unit = unit_in(router.config, variant)
        before = span_count(telemetry)
        out = app.invoke({"session_id": unit, "messages": [HumanMessage("hello")]})
        assert out["messages"][-1].content == variant
        assert out["routing"]["shapes"]["unit_id"] == unit
        spans = chat_spans(telemetry, before)
        assert_calls(spans, model=f"script:{variant}", variant=variant, reason="hashed")
        assert observed_calls(telemetry, unit) == {variant: 1}
