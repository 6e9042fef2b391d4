"""End to end: routed graphs export over OTLP/HTTP into a real MLflow tracking server on loopback (header
``x-mlflow-experiment-id``), and the traces are read back through MLflow's own client: span types, model,
token usage, cost, session and variant as MLflow shows them."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.tools import tool

from routing_agent.providers.profiles import SimulatedProfile, profiles
from routing_agent.providers.simulated import SimulatedChatModel
from routing_agent.telemetry import RoutingTelemetry, configure_exporters
from tests.e2e.mlflow_server import MlflowServer
from tests.telemetry.support import build_graph, experiments, scripted_catalog

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("mlflow")]  # one server, on one worker


@pytest.fixture(scope="module")
def mlflow() -> Iterator[MlflowServer]:
    try:
        import mlflow  # noqa: F401 - the client (mlflow-skinny, the e2e extra)
    except ImportError:
        pytest.fail("MLflow's client is not installed: pip install -e '.[dev,e2e]' (the e2e extra)")
    with MlflowServer() as server:
        yield server


def read_traces(url: str, experiment: str, want: int, timeout_s: float = 60.0) -> list[Any]:
    """Poll MLflow until ``want`` complete traces of ``experiment`` arrived (spans included)."""
    from mlflow import MlflowClient

    client = MlflowClient(url)
    deadline = time.monotonic() + timeout_s
    traces: list[Any] = []
    while time.monotonic() < deadline:
        traces = list(client.search_traces(locations=[experiment], max_results=100))
        if len(traces) >= want and all(t.data.spans for t in traces):
            return traces
        time.sleep(0.5)
    raise AssertionError(f"MLflow returned {len(traces)} traces, wanted {want}")


def _export(mlflow: MlflowServer, name: str) -> tuple[str, Any]:
    experiment = mlflow.create_experiment(f"{name}-{uuid.uuid4().hex[:8]}")
    # the test checks what arrives, not how fast: a loaded box's single-worker MLflow server took longer than
    # the 5 s default export timeout to take the first batch, and the export was dropped
    setup = configure_exporters(
        otlp=mlflow.url, headers={"x-mlflow-experiment-id": experiment}, timeout_s=60.0
    )
    return experiment, setup


def test_routed_graph_in_mlflow(mlflow: MlflowServer) -> None:
    experiment, setup = _export(mlflow, "routed")
    handler = RoutingTelemetry(tracer_provider=setup.tracer_provider, config=experiments())
    graph = build_graph(experiments(), scripted_catalog(first_chunk_delay_s=0.02, streaming=True))
    outs = [
        graph.invoke({"session_id": f"s-{i}", "tier": "gold"}, {"callbacks": [handler]}) for i in range(4)
    ]
    assert setup.force_flush(120_000)
    assert setup.exports()["otlp-traces"].failed == 0
    setup.shutdown()

    variants = {o["session_id"]: o["routing"]["exp-support"]["variant"] for o in outs}
    traces = read_traces(mlflow.url, experiment, want=4)
    assert len(traces) == 4
    for trace in traces:
        spans = trace.data.spans
        types = {s.name: s.span_type for s in spans}
        assert types["invoke_workflow support-flow"] == "WORKFLOW"
        assert types["route route"] == "CHAIN"
        assert {
            types[n] for n in ("invoke_agent triage", "invoke_agent research", "invoke_agent writer")
        } == {"AGENT"}
        chats = [s for s in spans if s.name.startswith("chat ")]
        assert len(chats) == 4 and {s.span_type for s in chats} == {"CHAT_MODEL"}
        session = trace.info.trace_metadata["mlflow.trace.session"]
        total = 0.0
        for chat in chats:
            attrs = chat.attributes
            assert attrs["routing_agent.variant"] == variants[session]
            assert attrs["routing_agent.unit_id"] == session
            assert attrs["mlflow.llm.model"] == attrs["gen_ai.response.model"]
            assert attrs["mlflow.llm.provider"] == "scripted"
            assert attrs["mlflow.chat.tokenUsage"] == {
                "input_tokens": 120,
                "output_tokens": 30,
                "total_tokens": 150,
            }
            cost = attrs["mlflow.llm.cost"]
            assert cost["total_cost"] == pytest.approx(attrs["routing_agent.cost_usd"], rel=1e-12)
            assert cost["input_cost"] + cost["output_cost"] == pytest.approx(cost["total_cost"], rel=1e-12)
            total += cost["total_cost"]
        trace_cost = json.loads(trace.info.trace_metadata["mlflow.trace.cost"])
        assert trace_cost["total_cost"] == pytest.approx(total, rel=1e-9)


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"sunny in {city}"


def test_create_agent_in_mlflow(mlflow: MlflowServer) -> None:
    """A create_agent loop on the simulated provider: one AGENT span, CHAIN steps, priced CHAT_MODEL calls."""
    data = profiles.get("strong-expensive").model_dump(exclude={"name"})
    # reported under its profile name, which prices it (the profile's indicative price)
    profile = {**data, "name": "e2e-agent", "model_name": None, "errors": {}, "refusal_rate": 0.0}
    profiles.register(SimulatedProfile.model_validate(profile))
    experiment, setup = _export(mlflow, "agent")
    handler = RoutingTelemetry(tracer_provider=setup.tracer_provider)
    agent = create_agent(
        SimulatedChatModel(sim_profile="e2e-agent", time_scale=0), [get_weather], name="helper"
    )
    agent.invoke(
        {"messages": [{"role": "user", "content": "What is the weather in Lima?"}]},
        {"callbacks": [handler], "configurable": {"thread_id": "thread-42"}},
    )
    assert setup.force_flush(120_000)
    setup.shutdown()
    [trace] = read_traces(mlflow.url, experiment, want=1)
    types = [(s.name, s.span_type) for s in trace.data.spans]
    assert ("invoke_agent helper", "AGENT") in types
    assert sorted(t for n, t in types if n in ("model", "tools")) == ["CHAIN", "CHAIN", "CHAIN"]
    assert trace.info.trace_metadata["mlflow.trace.session"] == "thread-42"
    chats = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    assert len(chats) == 2
    for chat in chats:
        assert chat.attributes["mlflow.llm.model"] == "e2e-agent"
        assert chat.attributes["mlflow.llm.cost"]["total_cost"] > 0  # the profile's indicative price
