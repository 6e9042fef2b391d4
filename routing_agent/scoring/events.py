"""Scores on traces: the ``gen_ai.evaluation.result`` event, and the run metadata that marks judge calls.

The OpenTelemetry GenAI conventions (``semantic-conventions-genai``, ``model/gen-ai/events.yaml``, status
*Development*) define ``gen_ai.evaluation.result``: it SHOULD be parented to the GenAI operation span being
evaluated, with ``gen_ai.evaluation.name`` (required), ``gen_ai.evaluation.score.value`` and
``gen_ai.evaluation.score.label`` (if applicable), ``gen_ai.evaluation.explanation`` and ``error.type``.

``record_evaluation`` writes it where a backend will see it:

* the evaluated span is still open (inline scoring inside the agent's span) → a span event on it;
* otherwise (the usual case: scoring runs after the agent's span ended, or offline from stored trace ids)
  → a log-based event through the OTel Logs API, with the evaluated span's trace and span id as its context.
  Configure a ``LoggerProvider`` (the SDK's, with an OTLP or in-memory exporter) to keep these; with none
  configured the API's no-op logger drops them at no cost.

Judge calls carry ``routing_agent.role = "judge"`` in their LangChain run metadata (and the tag
``routing_agent:judge``) and no experiment/variant keys, so telemetry traces them but records no cost or
latency observations for the experiment. Shadow and replay runs carry ``routing_agent.role = "shadow"``.
"""

from __future__ import annotations

__all__ = [
    "ERROR_TYPE",
    "EVALUATION_EVENT",
    "FAILURES",
    "GEN_AI_EVALUATION_EXPLANATION",
    "GEN_AI_EVALUATION_NAME",
    "GEN_AI_EVALUATION_SCORE_LABEL",
    "GEN_AI_EVALUATION_SCORE_VALUE",
    "JUDGE_TAG",
    "ROLE",
    "ROLE_JUDGE",
    "ROLE_SHADOW",
    "evaluation_attributes",
    "record_evaluation",
]

import logging
from typing import Literal

from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, get_logger
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, TraceFlags
from opentelemetry.util.types import AttributeValue

from routing_agent.scoring.base import Score, Status
from routing_agent.telemetry import semconv as sc
from routing_agent.telemetry.content import capture_enabled

logger = logging.getLogger("routing_agent.scoring")

EVALUATION_EVENT = sc.EVENT_GEN_AI_EVALUATION_RESULT
"""Event name of one evaluation result."""
GEN_AI_EVALUATION_NAME = sc.GEN_AI_EVALUATION_NAME
GEN_AI_EVALUATION_SCORE_VALUE = sc.GEN_AI_EVALUATION_SCORE_VALUE
GEN_AI_EVALUATION_SCORE_LABEL = sc.GEN_AI_EVALUATION_SCORE_LABEL
GEN_AI_EVALUATION_EXPLANATION = sc.GEN_AI_EVALUATION_EXPLANATION
ERROR_TYPE = sc.ERROR_TYPE
"""Set to ``invalid`` on the event when the evaluation produced no usable score."""

ROLE = "routing_agent.role"
"""LangChain run-metadata key: ``judge`` on judge calls, ``shadow`` on shadow/replay runs. Telemetry traces
such runs but records no experiment observations (cost, latency, tokens) for them."""
ROLE_JUDGE = "judge"
ROLE_SHADOW = "shadow"
JUDGE_TAG = "routing_agent:judge"
"""LangChain run tag on judge calls (for tracers that filter on tags rather than metadata)."""

_SCOPE = "routing_agent.scoring"

FAILURES: dict[str, int] = {}
"""Evaluation events that could not be written, per scorer name (the first is logged)."""


def evaluation_attributes(
    score: Score, *, max_explanation: int = 1000, capture_content: bool = False
) -> dict[str, AttributeValue]:
    """The event attributes of one score; the explanation only with ``capture_content`` (it may quote the
    model's output: a schema error names the offending value, a judge explains in its own words)."""
    attrs: dict[str, AttributeValue] = {GEN_AI_EVALUATION_NAME: score.name}
    if score.valid:
        assert score.value is not None
        attrs[GEN_AI_EVALUATION_SCORE_VALUE] = float(score.value)
    if score.label is not None:
        attrs[GEN_AI_EVALUATION_SCORE_LABEL] = score.label
    if score.explanation and capture_content:
        attrs[GEN_AI_EVALUATION_EXPLANATION] = score.explanation[:max_explanation]
    if score.status is Status.INVALID:
        attrs[ERROR_TYPE] = "invalid"
    return attrs


def _span_context(trace_id: str | int, span_id: str | int) -> SpanContext:
    tid = int(trace_id, 16) if isinstance(trace_id, str) else trace_id
    sid = int(span_id, 16) if isinstance(span_id, str) else span_id
    return SpanContext(tid, sid, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))


def record_evaluation(
    score: Score,
    *,
    span: Span | None = None,
    trace_id: str | int | None = None,
    span_id: str | int | None = None,
    logger_provider: LoggerProvider | None = None,
    capture_content: bool | None = None,
) -> Literal["span_event", "log_event", "none"]:
    """Attach ``score`` to the evaluated span as a ``gen_ai.evaluation.result`` event (see module docs).

    Give the span itself (``span``) or its ids (hex strings as stored on observations, or ints). Returns
    which form was written. The explanation is attached only when content capture is on
    (``capture_content``, else ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``; off by default).
    Never raises: a telemetry failure is logged and reported as ``"none"``.
    """
    if score.status is Status.SKIPPED:
        return "none"
    try:
        attrs = evaluation_attributes(score, capture_content=capture_enabled(capture_content))
        if span is not None and span.is_recording():
            span.add_event(EVALUATION_EVENT, attributes=attrs)
            return "span_event"
        if span is not None:
            context = span.get_span_context()
        elif trace_id is not None and span_id is not None:
            context = _span_context(trace_id, span_id)
        else:
            return "none"
        if not context.is_valid:
            return "none"
        otel_logger = get_logger(_SCOPE, logger_provider=logger_provider)
        otel_logger.emit(
            event_name=EVALUATION_EVENT,
            attributes=attrs,
            context=trace.set_span_in_context(NonRecordingSpan(context)),
        )
        return "log_event"
    except Exception as exc:  # telemetry must never break scoring: logged once per scorer, counted
        FAILURES[score.name] = FAILURES.get(score.name, 0) + 1
        if FAILURES[score.name] == 1:
            logger.warning("could not record evaluation '%s' on its span: %s", score.name, exc)
        return "none"
