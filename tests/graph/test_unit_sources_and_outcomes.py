"""Unit sources in the YAML (validated with located errors) and the public outcome API."""

from __future__ import annotations

import math
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.graph import START, MessagesState, StateGraph

from routing_agent import (
    ConfigError,
    RoutingNode,
    RoutingState,
    arecord_outcome,
    load_experiments_from_string,
    record_outcome,
    routed_model,
)
from routing_agent.control import Rollout
from routing_agent.stores.observations import MemoryObservationStore
from tests.app_shapes.support import YAML, experiments, unit_in


def _yaml(unit_lines: str) -> str:
    return YAML.replace("UNIT_LINES", unit_lines)


@pytest.mark.parametrize(
    ("lines", "field", "words"),
    [
        ("unit_source: thread_id\n    unit_key: session_id", "unit_key", "ignored"),
        ("unit: request\n    unit_source: thread_id", "unit_source", "request"),
        ("unit_source: threadid", "unit_source", "thread_id"),
    ],
)
def test_bad_unit_sources_are_located(lines: str, field: str, words: str) -> None:
    text = _yaml(lines).replace("    unit: session\n    unit: request", "    unit: request")
    with pytest.raises(ConfigError) as caught:
        load_experiments_from_string(text, source="units.yaml")
    issue = caught.value.issues[0]
    assert issue.file == "units.yaml" and issue.line is not None
    assert issue.experiment == "shapes"
    assert issue.field is not None and field in issue.field
    assert words in str(issue)


def test_unit_sources_load() -> None:
    for lines in ("unit_source: thread_id", "unit_source: context\n    unit_key: user_id", ""):
        spec = experiments(lines).experiments[0]
        assert spec.unit_source == (lines.split()[1] if lines else "state")


class State(RoutingState, MessagesState):
    session_id: str


def _app(node: RoutingNode) -> Any:
    def agent(state: State) -> dict[str, Any]:
        reply = routed_model(state).invoke(state["messages"])
        record_outcome("shapes", "resolved", 1.0 if reply.content == "candidate" else 0.0, state)
        return {"messages": [reply]}

    graph = StateGraph(State)
    graph.add_node("route", node)
    graph.add_node("agent", agent)
    graph.add_edge(START, "route")
    graph.add_edge("route", "agent")
    return graph.compile()


def _values(store: MemoryObservationStore, metric: str) -> dict[str, tuple[str, float]]:
    return {o.unit_id: (o.variant, o.value) for o in store.observations("shapes", metric)}


def test_record_outcome_from_a_node_and_later_by_unit_id(store_url: str) -> None:
    node = RoutingNode(experiments(), store=store_url, state_refresh_s=0.0)
    store = MemoryObservationStore()
    from routing_agent.testing import capture_telemetry

    with capture_telemetry(config=node.config) as telemetry:
        cand, ctrl = unit_in(node.config, "candidate"), unit_in(node.config, "control")
        for unit in (cand, ctrl):
            _app(node).invoke({"session_id": unit, "messages": [HumanMessage("hi")]})
        assert {o.unit_id: (o.variant, o.value) for o in telemetry.observed("shapes", "resolved")} == {
            cand: ("candidate", 1.0),
            ctrl: ("control", 0.0),
        }
    # later, outside the graph: by unit id, to an explicit store, twice (idempotent id)
    assert record_outcome("shapes", "revenue_usd", 42.5, cand, observations=store, segments={"tier": "pro"})
    assert record_outcome("shapes", "revenue_usd", 42.5, cand, observations=store)
    assert _values(store, "revenue_usd") == {cand: ("candidate", 42.5)}
    assert [dict(o.segments) for o in store.observations("shapes", "revenue_usd")] == [{"tier": "pro"}]
    assert not record_outcome("shapes", "revenue_usd", 1.0, "never-seen", observations=store)
    with pytest.raises(ValueError, match="finite"):
        record_outcome("shapes", "revenue_usd", math.nan, cand, observations=store)
    # after a rollback the unit is no longer randomized: its outcomes are not recorded
    Rollout(node.store, "shapes", known=True).rollback(actor="test", reason="outcome test")
    assert not record_outcome("shapes", "late", 1.0, cand, observations=store)
    node.close()


async def test_arecord_outcome_by_unit_id(store_url: str) -> None:
    node = RoutingNode(experiments(), store=store_url, state_refresh_s=0.0)
    store = MemoryObservationStore()
    unit = unit_in(node.config, "control")
    await node.ainvoke({"session_id": unit})
    assert await arecord_outcome("shapes", "resolved", 1.0, unit, observations=store)
    assert _values(store, "resolved") == {unit: ("control", 1.0)}
    node.close()


def test_an_agent_that_finds_no_routing_says_so_once(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    node = RoutingNode(experiments(), store=store_url)  # unit from state['session_id']

    def lonely(state: MessagesState) -> dict[str, Any]:  # a state without routing nor session_id
        return {"messages": [routed_model(state).invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("lonely-agent", lonely)
    graph.add_edge(START, "lonely-agent")
    app = graph.compile()
    with caplog.at_level("WARNING", logger="routing_agent.routing"):
        for _ in range(3):
            out = app.invoke({"messages": [HumanMessage("hi")]})
            assert out["messages"][-1].content == "default"  # the YAML default_model, in no experiment
    warnings = [r.getMessage() for r in caplog.records if "lonely-agent" in r.getMessage()]
    assert len(warnings) == 1
    assert "found no routing" in warnings[0] and "session_id" in warnings[0]
    node.close()
