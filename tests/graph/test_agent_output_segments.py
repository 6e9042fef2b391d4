"""Segments from an agent's output: ``segments: [{name: category, from: classifier.category}]``.

Two apps of our own (not the reference workflows), wired only as the README says — a ``MessagesState`` graph
with a routing node and hand-written agents, and a ``create_agent`` agent with ``RoutingMiddleware`` and a
structured response — over a real Redis assignment store. Each session's outcome must carry the value *that
agent* produced in *that session* (tool-call arguments, JSON content, structured response, nested fields),
never another agent's look-alike field, and the evaluator's segment analysis must see the values.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Literal

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ToolStrategy
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, MessagesState, StateGraph
from pydantic import BaseModel

from routing_agent import (
    RoutingMiddleware,
    RoutingNode,
    RoutingState,
    arecord_outcome,
    catalog,
    load_experiments_from_string,
    record_outcome,
    routed_model,
)
from routing_agent.config.loader import check_experiments_string
from routing_agent.stores.assignments import RedisStore
from routing_agent.testing import MemoryObservationStore

EXP = "triage-exp"
SEGMENTS = (
    "tier",
    "{name: category, from: classifier.category}",
    "{name: urgency, from: classifier.meta.urgency}",
)
YAML = """
version: 1
simulated_profiles:               # no simulated outages: every session must reach its outcome
  steady: {extends: strong-expensive, refusal_rate: 0, errors: {rate_limit: 0, server: 0, overloaded: 0}}
agents:
  classifier: {model: "simulated:steady"}
  auditor: {model: "simulated:steady"}
experiments:
  - id: triage-exp
    scope: [drafter]
    variants:
      - {name: strong, model: "simulated:steady", control: true}
      - {name: cheap, model: "simulated:fast-cheap"}
    segments:
    primary_metric: {name: resolved, kind: binary, mde: 0.05, baseline: 0.8}
"""
YAML = YAML.replace("    segments:\n", "    segments:\n" + "".join(f"      - {line}\n" for line in SEGMENTS))


class Meta(BaseModel):
    urgency: Literal["low", "high"]


class Classify(BaseModel):
    """Classify the ticket."""

    category: Literal["billing", "shipping", "technical", "account"]
    meta: Meta


class State(RoutingState, MessagesState):
    session_id: str
    tier: str


def classifier(state: State, config: RunnableConfig) -> dict[str, object]:
    """Even sessions: a structured output through tool calling; odd ones: a JSON reply in a code fence."""
    if int(state["session_id"].split("-")[1]) % 2 == 0:
        llm = routed_model(state, config).bind_tools([Classify], tool_choice="Classify")
        reply = llm.invoke(state["messages"])
    else:
        n = int(state["session_id"].split("-")[1])
        text = json.dumps({"category": ["billing", "account"][n % 4 // 2], "meta": {"urgency": "low"}})
        reply = FakeListChatModel(responses=[f"```json\n{text}\n```"]).invoke(state["messages"])
    reply.name = "classifier"  # the agent's messages carry its name
    return {"messages": [reply]}


def auditor(state: State, config: RunnableConfig) -> dict[str, object]:
    """Another agent answering with a look-alike field: never the classifier's segment."""
    return {"messages": [AIMessage(json.dumps({"category": "decoy"}), name="auditor")]}


def drafter_recording_to(obs: MemoryObservationStore) -> Callable[[State, RunnableConfig], dict[str, object]]:
    def drafter(state: State, config: RunnableConfig) -> dict[str, object]:
        reply = routed_model(state, config).invoke(state["messages"])
        record_outcome(EXP, "resolved", 1.0 if reply.content else 0.0, state, observations=obs)
        return {"messages": [reply]}

    return drafter


def _classifier_value(state: dict[str, object]) -> tuple[str, str]:
    """What the classifier produced in this session, read independently of the plugin."""
    (msg,) = [m for m in state["messages"] if getattr(m, "name", None) == "classifier"]  # type: ignore[attr-defined]
    if msg.tool_calls:
        args = msg.tool_calls[0]["args"]
    else:
        args = json.loads(msg.content.strip("`").removeprefix("json"))
    return args["category"], args["meta"]["urgency"]


def test_a_messages_state_app_records_what_the_classifier_produced(redis_url: str, redis_prefix: str) -> None:
    config = load_experiments_from_string(YAML)
    assert config.experiments[0].segments == ("tier", "category", "urgency")
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    obs = MemoryObservationStore()
    graph = StateGraph(State)
    graph.add_node("route", RoutingNode(config, store=store))
    for name, node in (
        ("classifier", classifier),
        ("auditor", auditor),
        ("drafter", drafter_recording_to(obs)),
    ):
        graph.add_node(name, node)
    graph.add_edge(START, "route")
    graph.add_edge("route", "classifier")
    graph.add_edge("classifier", "auditor")
    graph.add_edge("auditor", "drafter")
    graph.add_edge("drafter", END)
    app = graph.compile()
    expected: dict[str, dict[str, str]] = {}
    try:
        for i in range(24):
            tier = ("free", "pro")[i % 2]
            out = app.invoke(
                {
                    "messages": [HumanMessage(f"Ticket {i}: my parcel is late")],
                    "session_id": f"s-{i}",
                    "tier": tier,
                }
            )
            category, urgency = _classifier_value(out)
            expected[f"s-{i}"] = {"tier": tier, "category": category, "urgency": urgency}
    finally:
        store.close()
    recorded = {o.unit_id: dict(o.segments) for o in obs.observations(EXP, "resolved")}
    assert recorded == expected
    assert "decoy" not in obs.segments(EXP)["category"]
    assert len(obs.segments(EXP)["category"]) >= 2  # the values vary by session: read per session


class Category(BaseModel):
    """The ticket's category."""

    category: Literal["billing", "shipping", "technical", "account"]


def test_a_create_agent_apps_structured_response_is_its_segment(redis_url: str, redis_prefix: str) -> None:
    config = load_experiments_from_string(YAML.replace("scope: [drafter]", "scope: [classifier]"))
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    agent = create_agent(
        catalog.get("simulated:steady"),
        tools=[],
        response_format=ToolStrategy(Category),
        middleware=[RoutingMiddleware(RoutingNode(config, store=store))],
        name="classifier",
    )
    obs = MemoryObservationStore()
    produced = {}
    try:
        for i in range(16):
            out = agent.invoke(
                {"messages": [HumanMessage(f"Ticket {i}: I was charged twice")], "session_id": f"a-{i}"}
            )
            produced[f"a-{i}"] = out["structured_response"].category
            assert record_outcome(EXP, "resolved", 1.0, out, observations=obs)
            # the async twin shares the implementation: the same segments
            assert asyncio.run(arecord_outcome(EXP, "handled", 1.0, out, observations=obs))
    finally:
        store.close()
    recorded = {o.unit_id: o.segments.get("category") for o in obs.observations(EXP, "resolved")}
    assert recorded == produced
    handled = {o.unit_id: o.segments.get("category") for o in obs.observations(EXP, "handled")}
    assert handled == produced
    assert obs.segments(EXP)["category"] == set(produced.values())


@pytest.mark.parametrize(
    ("segment", "where", "message"),
    [
        ("{name: category, from: clasifier.category}", "segments[0].from", "did you mean 'classifier'?"),
        ("{name: category, from: 42}", "segments[0].from", "must name an agent and a field"),
        ("{name: category, from: classifier.}", "segments[0].from", "is not a field name"),
        ("{name: category, frm: classifier.category}", "segments[0]", "unknown key(s) frm"),
        ("{from: classifier.category}", "segments[0]", "a segment needs a 'name'"),
    ],
)
def test_a_bad_source_is_a_located_error(segment: str, where: str, message: str) -> None:
    declared = "\n".join(f"      - {line}" for line in SEGMENTS)
    text = YAML.replace(declared, f"      - {segment}")
    assert text != YAML
    check = check_experiments_string(text, "exp.yaml")
    assert not check.ok
    (issue,) = check.issues
    assert f"field '{where}'" in str(issue) and message in str(issue), str(issue)
    line = text.splitlines().index(f"      - {segment}") + 1
    assert f"exp.yaml:{line}," in str(issue)  # the line of the segment


def test_from_an_agent_alone_reads_the_field_named_like_the_segment() -> None:
    config = load_experiments_from_string(YAML.replace("from: classifier.category", "from: classifier"))
    source = config.experiments[0].segment_sources["category"]
    assert (source.agent, source.path) == ("classifier", ("category",))


def test_a_segment_ship_follows_the_classifiers_output_in_a_messages_app(
    redis_url: str, redis_prefix: str
) -> None:
    from routing_agent.control.rollout import Rollout

    config = load_experiments_from_string(YAML)
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    change = Rollout(store, config.get(EXP)).ship(
        "cheap", actor="carol", reason="cheap is as good on billing", segment={"category": "billing"}
    )
    assert change.applied
    obs = MemoryObservationStore()
    graph = StateGraph(State)
    graph.add_node("route", RoutingNode(config, store=store))
    for name, node in (
        ("classifier", classifier),
        ("auditor", auditor),
        ("drafter", drafter_recording_to(obs)),
    ):
        graph.add_node(name, node)
    graph.add_edge(START, "route")
    graph.add_edge("route", "classifier")
    graph.add_edge("classifier", "auditor")
    graph.add_edge("auditor", "drafter")
    graph.add_edge("drafter", END)
    app = graph.compile()
    served: dict[str, set[str]] = {}
    try:
        for i in range(24):
            out = app.invoke(
                {"messages": [HumanMessage(f"Ticket {i}: refund?")], "session_id": f"z-{i}", "tier": "pro"}
            )
            category, _ = _classifier_value(out)
            served.setdefault(category, set()).add(out["messages"][-1].response_metadata["model_name"])
    finally:
        store.close()
    assert served.pop("billing") == {"sim-fast-1"}  # the shipped segment: the candidate
    assert served and all(models == {"steady"} for models in served.values())  # the rest: control
