"""Judge and shadow calls under the real telemetry handler: traced, but not the experiment's cost/latency."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from routing_agent.scoring.node import ScoringNode
from routing_agent.scoring.shadow import ShadowRunner
from routing_agent.stores.assignments.memory import MemoryStore
from routing_agent.stores.observations.memory import MemoryObservationStore
from routing_agent.telemetry.callbacks import RoutingTelemetry
from routing_agent.telemetry.install import instrumented
from tests.scoring import rag_graph as rag
from tests.scoring.rag_graph import offline  # noqa: F401 (autouse fixture)

JUDGE = {
    "name": "answer_quality",
    "type": "judge_likert",
    "agent": "answerer",
    "reference_field": "reference.answer",
    "options": {"judge_model": "simjudge:fair"},
}


@pytest.fixture
def telemetry():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    store = MemoryObservationStore()
    handler = RoutingTelemetry(tracer_provider=provider, observations=store)
    yield handler, exporter, store
    provider.shutdown()


def test_judge_calls_are_traced_but_not_counted_as_experiment_calls(telemetry) -> None:
    handler, exporter, store = telemetry
    config = rag.config("simulated:regressed", [JUDGE])
    node = ScoringNode(config.experiments[0], agent="answerer", sink=store)
    graph = rag.build(config, MemoryStore(), extra=[("score_answerer", node)])
    with instrumented(handler):
        for i, row in enumerate(rag.items(10)):
            graph.invoke(rag.session(row, f"s{i}"))
    handler.flush()
    chat = [
        s
        for s in exporter.get_finished_spans()
        if (s.attributes or {}).get("gen_ai.operation.name") == "chat"
    ]
    judge_spans = [s for s in chat if "simjudge" in str((s.attributes or {}).get("gen_ai.request.model", ""))]
    assert len(judge_spans) == 10  # the judge is traced like any call
    assert len(list(store.observations("rag", "answer_quality"))) == 10
    calls = list(store.observations("rag", "calls"))
    assert len(calls) == 10  # one per session: the answerer's call, not the judge's
    assert all(o.agent == "answerer" for o in calls)


def test_shadow_runs_are_traced_but_not_counted_as_live_traffic(telemetry) -> None:
    handler, _exporter, store = telemetry
    config = rag.config("simulated:regressed", [])
    runner = ShadowRunner(rag.build(config), config)
    with instrumented(handler):
        runner.replay(rag.items(5))
    handler.flush()
    assert list(store.observations("rag", "calls")) == []
