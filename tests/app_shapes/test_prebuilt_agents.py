"""Prebuilt agents: ``create_agent`` with tools and ``RoutingMiddleware`` (no hand-declared state schema),
a supervisor whose tool calls a sub-agent (no forwarding), and ``create_react_agent`` with a dynamic model."""

from __future__ import annotations

import warnings
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph

from routing_agent import RoutingMiddleware, RoutingNode, RoutingState, catalog, routed_agent_model
from routing_agent.testing import CapturedTelemetry
from tests.app_shapes.conftest import rollback
from tests.app_shapes.support import (
    assert_calls,
    assert_rolled_back,
    chat_spans,
    experiments,
    observed_calls,
    span_count,
    unit_in,
)


@tool
def lookup(query: str) -> str:
    """Look the query up."""
    return f"found {query}"


def test_create_agent_with_tools_routes_every_call_under_its_own_name(
    router: RoutingNode, telemetry: CapturedTelemetry
) -> None:
    agent = create_agent(
        catalog.get("script:default"),
        tools=[lookup],
        middleware=[RoutingMiddleware(router)],
        name="researcher",
        checkpointer=InMemorySaver(),
    )
    unit = unit_in(router.config, "candidate")
    config: RunnableConfig = {"configurable": {"thread_id": unit}}
    out = agent.invoke({"messages": [HumanMessage("q1")], "session_id": unit}, config)
    assert [m.content for m in out["messages"]][-2:] == ["found q1", "candidate after found q1"]
    spans = chat_spans(telemetry)
    assert len(spans) == 2  # the tool-calling turn and the answer
    assert_calls(spans, model="script:candidate", variant="candidate", reason="hashed")
    assert {(s.attributes or {}).get("routing_agent.agent") for s in spans} == {"researcher"}
    assert observed_calls(telemetry, unit) == {"candidate": 2}

    rollback(router)
    before = span_count(telemetry)
    out = agent.invoke({"messages": [HumanMessage("q2")]}, config)
    assert out["messages"][-1].content == "control after found q2"
    assert_rolled_back(telemetry, before)
    assert observed_calls(telemetry, unit) == {"candidate": 2}


def test_supervisor_sub_agent_called_from_a_tool_inherits_the_assignment(
    router: RoutingNode, telemetry: CapturedTelemetry
) -> None:
    researcher = create_agent(
        catalog.get("script:default"),
        tools=[lookup],
        middleware=[RoutingMiddleware(router)],
        name="researcher",
    )

    @tool
    def research(query: str) -> str:
        """Ask the researcher sub-agent."""
        reply = researcher.invoke({"messages": [HumanMessage(query)]})  # nothing forwarded
        return str(reply["messages"][-1].content)

    supervisor = create_agent(
        catalog.get("script:default"),
        tools=[research],
        middleware=[RoutingMiddleware(router)],
        name="supervisor",
    )
    for variant in ("candidate", "control"):
        unit = unit_in(router.config, variant)
        before = span_count(telemetry)
        out = supervisor.invoke({"messages": [HumanMessage("why?")], "session_id": unit})
        assert out["messages"][-1].content == f"{variant} after {variant} after found why?"
        spans = chat_spans(telemetry, before)
        assert len(spans) == 4  # supervisor: tool call + answer; researcher: tool call + answer
        assert_calls(spans, model=f"script:{variant}", variant=variant)
        agents = sorted(str((s.attributes or {}).get("routing_agent.agent")) for s in spans)
        assert agents == ["researcher", "researcher", "supervisor", "supervisor"]
        assert {(s.attributes or {}).get("routing_agent.unit_id") for s in spans} == {unit}
        assert observed_calls(telemetry, unit) == {variant: 4}
    rollback(router)
    unit = unit_in(router.config, "candidate")
    before = span_count(telemetry)
    out = supervisor.invoke({"messages": [HumanMessage("why?")], "session_id": unit})
    assert out["messages"][-1].content == "control after control after found why?"
    assert len(chat_spans(telemetry, before)) == 4
    assert_rolled_back(telemetry, before)  # the sub-agent's calls too
    assert observed_calls(telemetry, unit) == {}


def test_create_react_agent_with_a_dynamic_model(router: RoutingNode, telemetry: CapturedTelemetry) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from langgraph.prebuilt import create_react_agent

        agent: Any = create_react_agent(
            routed_agent_model("researcher", tools=[lookup]),
            tools=[lookup],
            name="researcher",
            checkpointer=InMemorySaver(),
        )
    unit = unit_in(router.config, "candidate")
    config: RunnableConfig = {"configurable": {"thread_id": unit}}
    # the prebuilt agent's state has no session_id: the run's thread id is the unit in this app
    node = RoutingNode(experiments("unit_source: thread_id"), store=router.store, state_refresh_s=0.0)
    out = agent.invoke({"messages": [HumanMessage("q1")]}, config)
    assert out["messages"][-1].content == "candidate after found q1"
    spans = chat_spans(telemetry)
    assert_calls(spans, model="script:candidate", variant="candidate")
    assert {(s.attributes or {}).get("routing_agent.agent") for s in spans} == {"researcher"}
    assert observed_calls(telemetry, unit) == {"candidate": 2}

    rollback(node)
    before = span_count(telemetry)
    out = agent.invoke({"messages": [HumanMessage("q2")]}, config)
    assert out["messages"][-1].content == "control after found q2"
    assert_rolled_back(telemetry, before)
    assert observed_calls(telemetry, unit) == {"candidate": 2}


async def test_create_agent_async_with_the_thread_as_unit(
    store_url: str, telemetry: CapturedTelemetry
) -> None:
    node = RoutingNode(experiments("unit_source: thread_id"), store=store_url, state_refresh_s=0.0)
    agent = create_agent(
        catalog.get("script:default"),
        tools=[lookup],
        middleware=[RoutingMiddleware(node)],
        name="researcher",
        checkpointer=InMemorySaver(),
    )
    unit = unit_in(node.config, "candidate")
    config: RunnableConfig = {"configurable": {"thread_id": unit}}
    out = await agent.ainvoke({"messages": [HumanMessage("q1")]}, config)
    assert out["messages"][-1].content == "candidate after found q1"
    assert_calls(chat_spans(telemetry), model="script:candidate", variant="candidate", reason="hashed")
    assert observed_calls(telemetry, unit) == {"candidate": 2}
    rollback(node)
    before = span_count(telemetry)
    out = await agent.ainvoke({"messages": [HumanMessage("q2")]}, config)
    assert out["messages"][-1].content == "control after found q2"
    assert_rolled_back(telemetry, before)
    node.close()


def test_create_agent_as_a_node_of_a_routed_graph(router: RoutingNode, telemetry: CapturedTelemetry) -> None:
    class ChatState(RoutingState, MessagesState):
        session_id: str

    agent = create_agent(
        catalog.get("script:default"), tools=[lookup], middleware=[RoutingMiddleware(router)], name="helper"
    )
    graph = StateGraph(ChatState)
    graph.add_node("route", router)
    graph.add_node("helper", agent)
    graph.add_edge(START, "route")
    graph.add_edge("route", "helper")
    app = graph.compile(checkpointer=InMemorySaver())
    unit = unit_in(router.config, "candidate")
    config: RunnableConfig = {"configurable": {"thread_id": unit}}
    out = app.invoke({"messages": [HumanMessage("q")], "session_id": unit}, config)
    assert out["messages"][-1].content == "candidate after found q"
    assert_calls(chat_spans(telemetry), model="script:candidate", variant="candidate", reason="hashed")
    assert router.stats()["decisions"]["shapes"] == {"hashed": 1}  # decided once, by the outer routing node
    rollback(router)
    before = span_count(telemetry)
    out = app.invoke({"messages": [HumanMessage("r")]}, config)
    assert out["messages"][-1].content == "control after found r"
    assert_rolled_back(telemetry, before)
