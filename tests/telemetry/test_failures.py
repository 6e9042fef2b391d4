"""Telemetry never breaks the graph: raising exporters and processors, an unreachable OTLP endpoint,
exceptions inside our own code. Plus ``instrument()`` / ``instrumented()`` wiring."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

from routing_agent.telemetry import (
    Pricer,
    RoutingTelemetry,
    TokenUsage,
    configure_exporters,
    current_handler,
    instrument,
    instrumented,
    uninstrument,
)
from routing_agent.telemetry import semconv as sc
from tests.support.redis_server import free_port
from tests.telemetry.conftest import Otel
from tests.telemetry.support import build_graph, experiments, scripted_catalog

EXPORT_TIMEOUT_S = 10.0  # generous, so the bound below holds on a busy machine


def invoke(callbacks: list[Any] | None = None) -> dict[str, Any]:
    graph = build_graph(experiments(), scripted_catalog())
    config: dict[str, Any] = {"callbacks": callbacks} if callbacks is not None else {}
    return dict(graph.invoke({"session_id": "s-1", "tier": "gold"}, config))


class RaisingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise ConnectionError("collector exploded")


class RaisingProcessor(SpanProcessor):
    def on_end(self, span: ReadableSpan) -> None:
        raise RuntimeError("processor bug")


class BrokenPricer(Pricer):
    def cost(self, usage: TokenUsage, **kwargs: Any) -> float | None:
        raise ZeroDivisionError("price table bug")


def test_an_exporter_that_raises_does_not_break_the_graph() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RaisingExporter()))
    out = invoke([RoutingTelemetry(tracer_provider=provider)])
    assert out["answer"] == "the answer is 42"


def test_a_processor_that_raises_is_counted_and_logged_once(
    otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    otel.tracer_provider.add_span_processor(RaisingProcessor())
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    with caplog.at_level(logging.WARNING, logger="routing_agent.telemetry"):
        out = invoke([handler])
        invoke([handler])
    assert out["answer"] == "the answer is 42"
    assert handler.failures.count > 0
    warnings = [r for r in caplog.records if "routing-agent telemetry failed" in r.getMessage()]
    assert len(warnings) == len({(r.args[0], r.args[1]) for r in warnings})  # once per (where, kind)
    errors = otel.metric_points(sc.METRIC_TELEMETRY_ERRORS)
    assert sum(p.value for p in errors) == handler.failures.count


def test_an_internal_exception_never_reaches_the_graph(otel: Otel) -> None:
    handler = RoutingTelemetry(
        tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider, pricer=BrokenPricer()
    )
    out = invoke([handler])
    assert out["answer"] == "the answer is 42"
    assert handler.failures.count == 4  # one per chat-model call, in on_llm_end
    [point] = otel.metric_points(sc.METRIC_TELEMETRY_ERRORS)
    assert point.attributes == {"routing_agent.where": "on_llm_end", sc.ERROR_TYPE: "ZeroDivisionError"}


def test_an_unreachable_otlp_endpoint_does_not_break_or_stall_the_graph() -> None:
    setup = configure_exporters(otlp=f"http://127.0.0.1:{free_port()}", timeout_s=EXPORT_TIMEOUT_S)
    assert setup.endpoint is not None and setup.endpoint.endswith("/v1/traces")
    start = time.perf_counter()
    out = invoke([RoutingTelemetry(tracer_provider=setup.tracer_provider)])
    elapsed = time.perf_counter() - start
    assert out["answer"] == "the answer is 42"
    # export runs on the batch processor's thread; on the graph's path it would wait up to the timeout
    assert elapsed < EXPORT_TIMEOUT_S
    setup.force_flush(2000)
    setup.shutdown()


def test_otlp_endpoint_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from routing_agent.telemetry.exporters import otlp_traces_endpoint

    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert otlp_traces_endpoint() == "http://collector:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other:4318/custom")
    assert otlp_traces_endpoint() == "http://other:4318/custom"
    assert otlp_traces_endpoint("http://x:6006/v1/traces") == "http://x:6006/v1/traces"


def test_console_exporter_writes_spans(tmp_path: Any) -> None:
    path = tmp_path / "spans.txt"
    with path.open("w") as out:
        setup = configure_exporters(console=True, console_out=out)
        invoke([RoutingTelemetry(tracer_provider=setup.tracer_provider)])
        setup.shutdown()
    text = path.read_text()
    assert '"name": "invoke_workflow support-flow"' in text and '"name": "chat gpt-4o' in text


def test_instrument_traces_without_passing_callbacks(otel: Otel) -> None:
    handler = instrument(tracer_provider=otel.tracer_provider)
    try:
        assert current_handler() is handler
        invoke()
        invoke([handler])  # also passed explicitly: not added twice
    finally:
        uninstrument()
    assert current_handler() is None
    chats = [s for s in otel.spans() if s.kind is SpanKind.CLIENT]
    assert len(chats) == 8
    invoke()
    assert len([s for s in otel.spans() if s.kind is SpanKind.CLIENT]) == 8  # off after uninstrument


def test_instrumented_context_manager_scopes(otel: Otel) -> None:
    with instrumented(tracer_provider=otel.tracer_provider) as handler:
        assert current_handler() is handler
        invoke()
    assert current_handler() is None
    invoke()
    assert len([s for s in otel.spans() if s.parent is None]) == 1


def test_instrument_with_a_store_url(otel: Otel, tmp_path: Any) -> None:
    handler = instrument(tracer_provider=otel.tracer_provider, observations=f"sqlite:///{tmp_path}/o.db")
    try:
        out = invoke()
        assert handler.flush(5)
    finally:
        uninstrument()
    from routing_agent.stores.observations import open_observation_store

    store = open_observation_store(f"sqlite:///{tmp_path}/o.db")
    variant = out["routing"]["exp-support"]["variant"]
    assert store.counts_by_variant("exp-support") == {variant: 1}
    assert store.unit_aggregates("exp-support", "calls")[variant].sum_x == 4.0
    store.close()
