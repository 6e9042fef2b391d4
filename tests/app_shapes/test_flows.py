"""Graph flows: ``Send`` fan-out, subgraphs, interrupt/resume across a rollback, the functional API, async
streaming with ``stream_mode="messages"``, and units from ``thread_id`` and from the run context."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.func import entrypoint, task
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import Command, Send, interrupt
from typing_extensions import TypedDict

from routing_agent import (
    Routing,
    RoutingNode,
    RoutingState,
    arouted_model,
    inherited_routing,
    load_experiments_from_string,
    routed_model,
)
from routing_agent.testing import CapturedTelemetry
from tests.app_shapes.conftest import rollback
from tests.app_shapes.support import (
    YAML,
    assert_calls,
    assert_rolled_back,
    chat_spans,
    experiments,
    observed_calls,
    span_count,
    unit_in,
)


class FanState(RoutingState, total=False):
    session_id: str
    topics: list[str]
    notes: Annotated[list[str], operator.add]


class Topic(TypedDict):
    topic: str


def researcher(payload: Topic, config: RunnableConfig) -> dict[str, Any]:
    # the payload carries neither 'routing' nor 'session_id'
    return {"notes": [str(routed_model(payload, config).invoke(payload["topic"]).content)]}


def fan_out_app(router: RoutingNode) -> Any:
    graph = StateGraph(FanState)
    graph.add_node("route", router)
    graph.add_node("researcher", researcher)
    graph.add_edge(START, "route")
    graph.add_conditional_edges(
        "route", lambda s: [Send("researcher", {"topic": t}) for t in s["topics"]], ["researcher"]
    )
    return graph.compile()


def test_send_fan_out_with_a_small_payload(router: RoutingNode, telemetry: CapturedTelemetry) -> None:
    app = fan_out_app(router)
    for variant in ("candidate", "control"):
        unit = unit_in(router.config, variant)
        before = span_count(telemetry)
        out = app.invoke({"session_id": unit, "topics": ["a", "b", "c"]})
        assert out["notes"] == [variant] * 3
        spans = chat_spans(telemetry, before)
        assert len(spans) == 3
        assert_calls(spans, model=f"script:{variant}", variant=variant)
        assert observed_calls(telemetry, unit) == {variant: 3}
    rollback(router)
    unit = unit_in(router.config, "candidate")
    before = span_count(telemetry)
    assert fan_out_app(router).invoke({"session_id": unit, "topics": ["a", "b"]})["notes"] == ["control"] * 2
    assert_rolled_back(telemetry, before)
    assert observed_calls(telemetry, unit) == {}


class Inner(TypedDict, total=False):
    routing: Routing  # one line: the channel flows from the parent like any shared key
    question: str
    answer: str


class Plain(TypedDict, total=False):
    question: str
    answer: str


def test_subgraphs_inherit_routing(router: RoutingNode, telemetry: CapturedTelemetry) -> None:
    def answerer(state: Inner, config: RunnableConfig) -> dict[str, Any]:
        return {"answer": str(routed_model(state, config).invoke(state["question"]).content)}

    inner = StateGraph(Inner)
    inner.add_node("answerer", answerer)
    inner.add_edge(START, "answerer")
    compiled_inner = inner.compile()
    plain = StateGraph(Plain)
    plain.add_node("answerer", answerer)
    plain.add_edge(START, "answerer")
    compiled_plain = plain.compile()

    class Outer(RoutingState, total=False):
        session_id: str
        question: str
        answer: str
        second: str

    def ask_inside(state: Outer) -> dict[str, Any]:  # a graph invoked from a node, with a state of its own
        with inherited_routing(state):
            return {"second": compiled_plain.invoke({"question": "again"})["answer"]}

    outer = StateGraph(Outer)
    outer.add_node("route", router)
    outer.add_node("sub", compiled_inner)  # a subgraph as a node
    outer.add_node("ask_inside", ask_inside)
    outer.add_edge(START, "route")
    outer.add_edge("route", "sub")
    outer.add_edge("sub", "ask_inside")
    app = outer.compile()
    unit = unit_in(router.config, "candidate")
    out = app.invoke({"session_id": unit, "question": "why?"})
    assert (out["answer"], out["second"]) == ("candidate", "candidate")
    spans = chat_spans(telemetry)
    assert len(spans) == 2
    assert_calls(spans, model="script:candidate", variant="candidate")
    assert observed_calls(telemetry, unit) == {"candidate": 2}
    rollback(router)
    before = span_count(telemetry)
    out = app.invoke({"session_id": unit, "question": "why?"})
    assert (out["answer"], out["second"]) == ("control", "control")
    assert_rolled_back(telemetry, before)


class ReviewState(RoutingState, MessagesState):
    session_id: str


def test_interrupt_resume_across_a_rollback(router: RoutingNode, telemetry: CapturedTelemetry) -> None:
    def draft(state: ReviewState, config: RunnableConfig) -> dict[str, Any]:
        return {"messages": [routed_model(state, config).invoke(state["messages"])]}

    def review(state: ReviewState, config: RunnableConfig) -> dict[str, Any]:
        note = interrupt("approve?")
        reply = routed_model(state, config, agent="finaliser").invoke(f"{note}")
        return {"messages": [reply]}

    graph = StateGraph(ReviewState)
    for name, node in (("route", router), ("draft", draft), ("review", review)):
        graph.add_node(name, node)
    graph.add_edge(START, "route")
    graph.add_edge("route", "draft")
    graph.add_edge("draft", "review")
    app = graph.compile(checkpointer=InMemorySaver())
    unit = unit_in(router.config, "candidate")
    config: RunnableConfig = {"configurable": {"thread_id": unit}}
    paused = app.invoke({"messages": [HumanMessage("draft it")], "session_id": unit}, config)
    assert "__interrupt__" in paused
    assert_calls(chat_spans(telemetry), model="script:candidate", variant="candidate")
    rollback(router)
    before = span_count(telemetry)
    out = app.invoke(Command(resume="ok"), config)
    assert out["messages"][-1].content == "control"
    assert_rolled_back(telemetry, before)
    assert observed_calls(telemetry, unit) == {"candidate": 1}


def test_functional_api_with_thread_units(store_url: str, telemetry: CapturedTelemetry) -> None:
    node = RoutingNode(experiments("unit_source: thread_id"), store=store_url, state_refresh_s=0.0)

    @task
    def answer(question: str) -> str:
        return str(routed_model(None, agent="answerer").invoke(question).content)

    @entrypoint(checkpointer=InMemorySaver())
    def workflow(questions: list[str]) -> list[str]:
        return [f.result() for f in [answer(q) for q in questions]]

    unit = unit_in(node.config, "candidate")
    config: RunnableConfig = {"configurable": {"thread_id": unit}}
    assert workflow.invoke(["a", "b"], config) == ["candidate", "candidate"]
    spans = chat_spans(telemetry)
    assert len(spans) == 2
    assert_calls(spans, model="script:candidate", variant="candidate")
    assert observed_calls(telemetry, unit) == {"candidate": 2}
    rollback(node)
    before = span_count(telemetry)
    assert workflow.invoke(["c"], config) == ["control"]
    assert_rolled_back(telemetry, before)
    node.close()


class ThreadChat(RoutingState, MessagesState):
    pass


async def test_async_streaming_messages_with_the_thread_as_unit(
    store_url: str, telemetry: CapturedTelemetry
) -> None:
    node = RoutingNode(experiments("unit_source: thread_id"), store=store_url, state_refresh_s=0.0)

    async def chatbot(state: ThreadChat, config: RunnableConfig) -> dict[str, Any]:
        llm = await arouted_model(state, config)  # the async twin: store round trips are awaited
        return {"messages": [await llm.ainvoke(state["messages"])]}

    graph = StateGraph(ThreadChat)
    graph.add_node("route", node)
    graph.add_node("chatbot", chatbot)
    graph.add_edge(START, "route")
    graph.add_edge("route", "chatbot")
    app = graph.compile(checkpointer=InMemorySaver())
    unit = unit_in(node.config, "candidate")
    config: RunnableConfig = {"configurable": {"thread_id": unit}}

    async def turn(text: str) -> str:
        pieces = [
            str(chunk.content)
            async for chunk, _ in app.astream(
                {"messages": [HumanMessage(text)]}, config, stream_mode="messages"
            )
        ]
        return "".join(pieces).strip()

    assert await turn("hi") == "candidate"
    assert await turn("more") == "candidate"
    spans = chat_spans(telemetry)
    assert len(spans) == 2
    assert_calls(spans, model="script:candidate", variant="candidate")
    assert all((s.attributes or {}).get("routing_agent.unit_id") == unit for s in spans)
    assert observed_calls(telemetry, unit) == {"candidate": 2}
    rollback(node)
    before = span_count(telemetry)
    assert await turn("after") == "control"
    assert_rolled_back(telemetry, before)
    node.close()


@dataclass
class UserContext:
    user_id: str


@pytest.mark.parametrize("variant", ["candidate", "control"])
def test_unit_from_the_run_context(store_url: str, telemetry: CapturedTelemetry, variant: str) -> None:
    node = RoutingNode(
        experiments("unit_source: context\n    unit_key: user_id"), store=store_url, state_refresh_s=0.0
    )

    def chatbot(state: ThreadChat, config: RunnableConfig) -> dict[str, Any]:
        return {"messages": [routed_model(state, config).invoke(state["messages"])]}

    graph = StateGraph(ThreadChat, context_schema=UserContext)
    graph.add_node("route", node)
    graph.add_node("chatbot", chatbot)
    graph.add_edge(START, "route")
    graph.add_edge("route", "chatbot")
    app = graph.compile()
    unit = unit_in(node.config, variant)
    for text in ("one", "two"):  # no checkpointer: each run is routed afresh, sticky by user
        out = app.invoke({"messages": [HumanMessage(text)]}, context=UserContext(user_id=unit))
        assert out["messages"][-1].content == variant
    assert_calls(chat_spans(telemetry), model=f"script:{variant}", variant=variant)
    assert observed_calls(telemetry, unit) == {variant: 2}
    rollback(node)
    before = span_count(telemetry)
    out = app.invoke({"messages": [HumanMessage("three")]}, context=UserContext(user_id=unit))
    assert out["messages"][-1].content == "control"
    assert_rolled_back(telemetry, before)
    node.close()


def test_a_subgraph_with_its_own_state_in_a_checkpointed_app(
    router: RoutingNode, telemetry: CapturedTelemetry
) -> None:
    def answerer(state: Plain, config: RunnableConfig) -> dict[str, Any]:
        return {"answer": str(routed_model(state, config).invoke(state["question"]).content)}

    plain = StateGraph(Plain)
    plain.add_node("answerer", answerer)
    plain.add_edge(START, "answerer")

    class Outer(RoutingState, total=False):
        session_id: str
        question: str
        answer: str

    outer = StateGraph(Outer)
    outer.add_node("route", router)
    outer.add_node("sub", plain.compile())  # no routing channel, no session_id, nothing forwarded
    outer.add_edge(START, "route")
    outer.add_edge("route", "sub")
    app = outer.compile(checkpointer=InMemorySaver())
    for variant in ("candidate", "control"):
        unit = unit_in(router.config, variant)
        before = span_count(telemetry)
        out = app.invoke(
            {"session_id": unit, "question": "why?"}, {"configurable": {"thread_id": f"t-{unit}"}}
        )
        assert out["answer"] == variant
        assert_calls(chat_spans(telemetry, before), model=f"script:{variant}", variant=variant)
        assert observed_calls(telemetry, unit) == {variant: 1}


def test_send_to_an_agent_outside_the_scope_gets_its_declared_default(
    store_url: str, telemetry: CapturedTelemetry
) -> None:
    text = YAML.replace("UNIT_LINES", "scope: [writer]").replace(
        'default_model: {model: "script:default"}', 'agents: {researcher: {model: "script:research"}}'
    )
    node = RoutingNode(load_experiments_from_string(text, source="scoped.yaml"), store=store_url)
    app = fan_out_app(node)
    unit = unit_in(node.config, "candidate")
    out = app.invoke({"session_id": unit, "topics": ["a", "b"]})
    assert out["notes"] == ["research", "research"]  # declared default, no "declare agents.researcher" error
    spans = chat_spans(telemetry)
    assert {(s.attributes or {}).get("routing_agent.model_id") for s in spans} == {"script:research"}
    assert all((s.attributes or {}).get("routing_agent.variant") is None for s in spans)
    assert observed_calls(telemetry, unit) == {}  # an agent outside the scope is not in the experiment
    node.close()
