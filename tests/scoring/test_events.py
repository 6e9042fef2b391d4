"""Scores on traces: gen_ai.evaluation.result as a span event or a log event parented to the span."""

from __future__ import annotations

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from routing_agent.scoring.base import Score, Status
from routing_agent.scoring.events import (
    ERROR_TYPE,
    EVALUATION_EVENT,
    GEN_AI_EVALUATION_EXPLANATION,
    GEN_AI_EVALUATION_NAME,
    GEN_AI_EVALUATION_SCORE_LABEL,
    GEN_AI_EVALUATION_SCORE_VALUE,
    record_evaluation,
)


@pytest.fixture
def tracing():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("test"), exporter
    provider.shutdown()


@pytest.fixture
def logs():
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


GOOD = Score("answer_quality", 4.0, label="4", explanation="covers most of the reference")


def test_names_follow_the_genai_conventions() -> None:
    assert EVALUATION_EVENT == "gen_ai.evaluation.result"
    assert GEN_AI_EVALUATION_NAME == "gen_ai.evaluation.name"
    assert GEN_AI_EVALUATION_SCORE_VALUE == "gen_ai.evaluation.score.value"
    assert GEN_AI_EVALUATION_SCORE_LABEL == "gen_ai.evaluation.score.label"
    assert GEN_AI_EVALUATION_EXPLANATION == "gen_ai.evaluation.explanation"


def test_open_span_gets_a_span_event(tracing) -> None:
    tracer, exporter = tracing
    with tracer.start_as_current_span("chat sim-strong-1") as span:
        assert record_evaluation(GOOD, span=span, capture_content=True) == "span_event"
    (finished,) = exporter.get_finished_spans()
    (event,) = finished.events
    assert event.name == EVALUATION_EVENT
    assert dict(event.attributes or {}) == {
        GEN_AI_EVALUATION_NAME: "answer_quality",
        GEN_AI_EVALUATION_SCORE_VALUE: 4.0,
        GEN_AI_EVALUATION_SCORE_LABEL: "4",
        GEN_AI_EVALUATION_EXPLANATION: "covers most of the reference",
    }


def test_explanation_stays_off_spans_unless_content_capture_is_on(tracing, monkeypatch) -> None:
    tracer, exporter = tracing
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    card = Score(
        "json_valid", 0.0, label="schema_error", explanation="'4111 1111 1111 1111' is not an integer"
    )
    with tracer.start_as_current_span("chat") as span:
        record_evaluation(card, span=span)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    with tracer.start_as_current_span("chat") as span:
        record_evaluation(card, span=span)
    off, on = exporter.get_finished_spans()
    assert GEN_AI_EVALUATION_EXPLANATION not in dict(off.events[0].attributes or {})
    assert "4111" not in repr(dict(off.events[0].attributes or {}))
    assert dict(on.events[0].attributes or {})[GEN_AI_EVALUATION_EXPLANATION] == card.explanation


def test_ended_span_gets_a_log_event_in_its_trace(tracing, logs) -> None:
    tracer, spans = tracing
    provider, exporter = logs
    with tracer.start_as_current_span("chat sim-strong-1") as span:
        pass
    assert record_evaluation(GOOD, span=span, logger_provider=provider) == "log_event"
    (record,) = exporter.get_finished_logs()
    assert record.log_record.event_name == EVALUATION_EVENT
    assert record.log_record.trace_id == span.get_span_context().trace_id
    assert record.log_record.span_id == span.get_span_context().span_id
    assert record.log_record.attributes[GEN_AI_EVALUATION_SCORE_VALUE] == 4.0
    assert spans.get_finished_spans()[0].events == ()


def test_stored_hex_ids_and_invalid_scores(logs) -> None:
    provider, exporter = logs
    invalid = Score("answer_quality", None, label="invalid", explanation="empty reply", status=Status.INVALID)
    trace_id, span_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    assert (
        record_evaluation(invalid, trace_id=trace_id, span_id=span_id, logger_provider=provider)
        == "log_event"
    )
    (record,) = exporter.get_finished_logs()
    attrs = dict(record.log_record.attributes or {})
    assert GEN_AI_EVALUATION_SCORE_VALUE not in attrs
    assert attrs[ERROR_TYPE] == "invalid" and attrs[GEN_AI_EVALUATION_SCORE_LABEL] == "invalid"
    assert format(record.log_record.trace_id, "032x") == trace_id
    assert format(record.log_record.span_id, "016x") == span_id


def test_nothing_to_attach_to(logs) -> None:
    provider, exporter = logs
    assert record_evaluation(GOOD, logger_provider=provider) == "none"
    skipped = Score("x", None, status=Status.SKIPPED)
    assert record_evaluation(skipped, trace_id="1" * 32, span_id="2" * 16, logger_provider=provider) == "none"
    assert record_evaluation(GOOD, trace_id="zz", span_id="2" * 16, logger_provider=provider) == "none"
    assert exporter.get_finished_logs() == ()
