"""No prompt or response content and no API key in spans, logs or observations unless content capture is
opted in. Full runs through real graphs: the support-triage workflow on simulated models, and a routed graph
whose candidate is LangChain's real ``ChatOpenAI`` (against a local OpenAI-compatible server) with its key
taken from the environment by name. Every logger is captured at DEBUG, a store outage and a failing model
make the code log, and the test plants a canary in the user's input and a key in the environment."""

from __future__ import annotations

import logging
import operator
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from routing_agent.config.loader import load_experiments, load_experiments_from_string
from routing_agent.graph import RoutingNode, RoutingState, routed_model
from routing_agent.stores.observations import MemoryObservationStore
from routing_agent.telemetry import RoutingTelemetry
from tests.providers.test_real_provider_path import openai_server  # noqa: F401 (fixture)
from tests.support.redis_server import free_port
from tests.support.time_scale import instant_models

CANARY = "CANARY-c0ffee-prompt-text"
KEY = "sk-PLANTED-0123456789abcdefghijklmnop"
LEAKS = (CANARY, KEY, "PLANTED")


@pytest.fixture(autouse=True)
def planted(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("RA_TEST_OPENAI_KEY", KEY)
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    with instant_models():
        yield


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):  # the root logger: every library's records, ours included
        yield caplog


def spans_and_store(capture: bool | None, config: Any) -> tuple[InMemorySpanExporter, Any, RoutingTelemetry]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    store = MemoryObservationStore()
    handler = RoutingTelemetry(
        tracer_provider=provider, observations=store, config=config, capture_content=capture
    )
    return exporter, store, handler


def leaked(
    spans: list[ReadableSpan], store: MemoryObservationStore, caplog: Any, experiment: str
) -> list[str]:
    found = []
    for span in spans:
        texts = [str(v) for v in (span.attributes or {}).values()] + [span.name, str(span.status.description)]
        texts += [str(e.attributes) for e in span.events]
        found += [f"span {span.name}" for t in texts if any(s in t for s in LEAKS)]
    for obs in store.observations(experiment):
        found += ["observation" for s in LEAKS if s in str(obs.to_json())]
    for record in caplog.records:
        text = record.getMessage() + str(record.exc_text or "")
        found += [f"log {record.name}" for s in LEAKS if s in text]
    return found


def test_the_support_workflow_leaks_no_content(everything_logged: pytest.LogCaptureFixture) -> None:
    from routing_agent.workflows import get_workflow

    workflow = get_workflow("support")
    config = load_experiments(workflow.default_config)
    exporter, store, handler = spans_and_store(None, config)
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # an outage: the routing code logs
    graph = workflow.build(config, dead_redis)
    for i, row in enumerate(workflow.items()[:12]):
        item = {**row, "ticket": f"{row['ticket']} {CANARY}", "subject": CANARY}
        graph.invoke(workflow.session_input(item, f"s{i}"), {"callbacks": [handler]})
    assert handler.flush(10)
    spans = list(exporter.get_finished_spans())
    assert len(spans) > 50 and len(list(store.observations("support-haiku"))) > 100
    assert any("assignment store unavailable" in r.getMessage() for r in everything_logged.records)
    assert leaked(spans, store, everything_logged, "support-haiku") == []


ROUTED = """\
default_model: {model: "simulated:strong-expensive"}
experiments:
  - id: real
    variants:
      - {name: control, model: "simulated:strong-expensive", control: true, params: {time_scale: 0}}
      - name: candidate
        model: "openai:gpt-test"
        params: {base_url: "%s", api_key_env: RA_TEST_OPENAI_KEY, max_retries: 0, timeout: 5}
"""


class State(RoutingState, total=False):
    session_id: str
    question: str
    answers: Annotated[list[str], operator.add]


def routed_graph(config: Any) -> Any:
    def agent(state: State, config: RunnableConfig) -> dict[str, Any]:
        llm = routed_model(state, config, agent="writer")
        prompt = f"Answer this: {state['question']}" + (
            " RATE-LIMIT" if state["session_id"].endswith("7") else ""
        )
        try:
            return {"answers": [str(llm.invoke(prompt).content)]}
        except Exception as exc:  # a provider error the app handles; telemetry records it on the span
            return {"answers": [type(exc).__name__]}

    graph = StateGraph(State)
    graph.add_node("route", RoutingNode(config))
    graph.add_node("writer", agent)
    graph.add_edge(START, "route")
    graph.add_edge("route", "writer")
    graph.add_edge("writer", END)
    return graph.compile()


@pytest.mark.parametrize("capture", [None, True])
def test_a_real_provider_client_leaks_nothing_unless_capture_is_on(
    capture: bool | None,
    openai_server: tuple[str, list[dict[str, Any]]],  # noqa: F811
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    url, requests = openai_server
    config = load_experiments_from_string(ROUTED % url)
    exporter, store, handler = spans_and_store(capture, config)
    graph = routed_graph(config)
    variants = set()
    for i in range(30):
        out = graph.invoke({"session_id": f"s{i}", "question": CANARY}, {"callbacks": [handler]})
        variants.add(out["routing"]["real"]["variant"])
        assert KEY not in str(out)  # the state holds the variable's name, never the key
    assert handler.flush(10)
    assert variants == {"control", "candidate"} and requests  # the real client was called
    assert all(CANARY in str(r["messages"]) for r in requests)  # the canary really was in the prompts
    found = leaked(list(exporter.get_finished_spans()), store, everything_logged, "real")
    if capture:
        assert found and all(f.startswith("span") for f in found)  # opted in: content on spans only
        assert not [f for f in found if KEY in f]
    else:
        assert found == []
