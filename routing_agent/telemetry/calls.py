"""One chat-model call, start to end: its span, metrics and observations (the handler's hot path).

The per-(model, variant) parts are built once (``CallIdentity``); per call the start reads three metadata
values and starts the span with all start attributes in one call; the end reads the response once, sets the
end attributes in one ``set_attributes``, records the histograms with the identity's cached attribute sets,
and hands one compact ``CallObservations`` record to the observation writer, which builds the
``Observation`` objects on its own thread.
"""

from __future__ import annotations

__all__ = ["CallRecorder", "LLMCall", "ObservationSink", "error_type"]

import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from routing_agent.graph import metadata as meta
from routing_agent.stores.observations.observation import Observation
from routing_agent.telemetry import semconv as sc
from routing_agent.telemetry.backends import cost_attributes
from routing_agent.telemetry.call_observations import CallObservations
from routing_agent.telemetry.content import input_messages_json, output_messages_json
from routing_agent.telemetry.identity import CallIdentity, IdentityCache
from routing_agent.telemetry.instruments import Instruments
from routing_agent.telemetry.pricing import ModelPrice, Pricer
from routing_agent.telemetry.response import ResponseInfo, read_response

_EMPTY: Mapping[str, str] = {}


class ObservationSink(Protocol):
    """Where the handler sends observations; must not block (``BufferedObservationWriter`` is one)."""

    def add_many(self, observations: Sequence[Observation]) -> None: ...

    def flush(self, timeout_s: float = ...) -> bool: ...


class LLMCall:
    """One open chat-model call: its identity, span, per-call facts and the first-chunk time."""

    __slots__ = (
        "conversation",
        "first",
        "identity",
        "run_id",
        "segments",
        "span",
        "start",
        "streamed",
        "unit_id",
    )

    def __init__(  # noqa: PLR0917
        self,
        identity: CallIdentity,
        span: Span,
        unit_id: str | None,
        segments: Any,
        run_id: UUID | None,
        conversation: str | None = None,
    ) -> None:
        self.identity = identity
        self.conversation = conversation
        self.span = span
        self.unit_id = unit_id
        self.segments = segments
        self.run_id = run_id
        self.first: float | None = None  # perf_counter() of the first streamed chunk carrying content
        self.streamed = False  # at least one chunk arrived
        self.start = time.perf_counter()

    def routing_attributes(self) -> dict[str, Any]:
        """``routing_agent.*`` attributes of the call, unit id included."""
        attrs = dict(self.identity.routing)
        if self.unit_id is not None:
            attrs[sc.RA_UNIT_ID] = self.unit_id
        return attrs


class CallRecorder:
    """Starts and ends chat-model calls: span attributes, metrics, observations."""

    def __init__(
        self,
        tracer: Tracer,
        instruments: Instruments,
        pricer: Pricer,
        sink: ObservationSink | None,
        capture_content: bool,
    ) -> None:
        self.tracer = tracer
        self.instruments = instruments
        self.pricer = pricer
        # the stock Pricer's lookup is resolved once per identity; a subclass is asked on every call
        self._price_per_identity = type(pricer).price is Pricer.price and type(pricer).cost is Pricer.cost
        self.sink = sink
        self.capture_content = capture_content
        self.identities = IdentityCache()

    def start(  # noqa: PLR0917
        self,
        metadata: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        operation: str,
        run_id: UUID | None,
        parent: Context | None,
        messages: Sequence[Sequence[BaseMessage]] | None,
        conversation: str | None = None,
    ) -> LLMCall:
        """Start the span of a call (all known attributes at once).

        ``conversation`` is the run's conversation id when known; else LangGraph's ``thread_id``, else the
        unit id of a session unit."""
        md = metadata or _EMPTY
        identity = self.identities.get(md, params or _EMPTY, operation)
        unit_id = md.get(meta.UNIT_ID)
        if unit_id is not None:
            unit_id = str(unit_id)
        if conversation is None:
            thread = md.get("thread_id")
            if thread is not None:
                conversation = str(thread)
            elif identity.unit == "session" and unit_id is not None:
                conversation = unit_id
        attrs = identity.start_attributes
        if unit_id is not None or conversation is not None or (self.capture_content and messages is not None):
            attrs = dict(attrs)
            if unit_id is not None:
                attrs[sc.RA_UNIT_ID] = unit_id
            if conversation is not None:
                attrs[sc.GEN_AI_CONVERSATION_ID] = conversation
            if self.capture_content and messages is not None:
                attrs[sc.GEN_AI_INPUT_MESSAGES] = input_messages_json(messages)
        span = self.tracer.start_span(
            identity.span_name, context=parent, kind=SpanKind.CLIENT, attributes=attrs
        )
        segments = md.get(meta.SEGMENTS)
        segments = segments if isinstance(segments, Mapping) else _EMPTY
        return LLMCall(identity, span, unit_id, segments, run_id, conversation)

    def finish(self, call: LLMCall, response: LLMResult | None, error: BaseException | None) -> None:
        """Complete the span, record metrics and emit observations for one ended call."""
        end = time.perf_counter()
        identity = call.identity
        span = call.span
        info = read_response(response) if response is not None else None
        if info is not None and info.reported_latency_s is not None:
            latency: float = info.reported_latency_s
            attrs: dict[str, Any] = {sc.RA_LATENCY_S: latency, sc.RA_DURATION_SOURCE: "reported"}
        else:
            latency = end - call.start
            attrs = {sc.RA_LATENCY_S: latency, sc.RA_DURATION_SOURCE: "measured"}
        ttft: float | None = None
        if call.first is not None:
            ttft = call.first - call.start
            if info is not None and info.reported_ttft_s is not None:
                ttft = info.reported_ttft_s
            attrs[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = ttft
        if call.streamed:
            attrs[sc.GEN_AI_REQUEST_STREAM] = True
        cost: float | None = None
        if info is not None:
            cost = self._response_attributes(identity, info, attrs)
            if self.capture_content and response is not None and response.generations:
                attrs[sc.GEN_AI_OUTPUT_MESSAGES] = output_messages_json(response.generations[0])
        kind = None
        if error is not None:
            kind = error_type(error)
            attrs[sc.ERROR_TYPE] = kind
        span.set_attributes(attrs)
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:512]))
            span.record_exception(error)
        span.end()

        inst = self.instruments
        metric = identity.metric
        usage = info.usage if info is not None else None
        tokens = (usage.input, usage.output) if usage is not None else None
        inst.calls.add(
            latency,
            metric if kind is None else {**metric, sc.ERROR_TYPE: kind},
            ttft,
            metric,
            tokens,
            identity.tokens_in,
            identity.tokens_out,
        )
        if cost is not None:
            inst.cost.add(cost, metric)
        elif info is not None:
            inst.unpriced.add(1, metric)
        if self.sink is not None and identity.live and call.unit_id:
            ctx = span.get_span_context()
            self.sink.add_many(
                CallObservations(
                    identity,
                    call.unit_id,
                    call.segments,
                    call.run_id,
                    time.time(),
                    ctx.trace_id,
                    ctx.span_id,
                    latency,
                    error is not None,
                    ttft,
                    info.refusal if info is not None else None,
                    tokens,
                    cost,
                )
            )

    def _response_attributes(
        self, identity: CallIdentity, info: ResponseInfo, attrs: dict[str, Any]
    ) -> float | None:
        if info.response_model:
            attrs[sc.GEN_AI_RESPONSE_MODEL] = info.response_model
        if info.response_id:
            attrs[sc.GEN_AI_RESPONSE_ID] = info.response_id
        if info.finish_reasons:
            attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = info.finish_reasons
        if info.refusal:
            attrs[sc.RA_REFUSAL] = True
        if info.citations is not None:
            attrs[sc.RA_CITATIONS] = info.citations
        cost: float | None = None
        usage = info.usage
        if usage is not None:
            attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] = usage.input
            attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.output
            if usage.cache_read:
                attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cache_read
            if usage.cache_write:
                attrs[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = usage.cache_write
            if info.reasoning_tokens:
                attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = info.reasoning_tokens
            price: ModelPrice | None = None
            if self._price_per_identity:
                price = identity.resolved_price(self.pricer)
                cost = price.cost(usage) if price is not None else None
            else:
                cost = self.pricer.cost(
                    usage,
                    provider=identity.raw_provider,
                    model=identity.request_model,
                    model_id=identity.model_id,
                    experiment=identity.experiment,
                )
            if cost is not None:
                attrs.update(cost_attributes(cost, usage, price))
        if cost is not None:
            attrs[sc.RA_COST_USD] = cost
        else:
            attrs[sc.RA_UNPRICED] = True
            if usage is None:
                attrs[sc.RA_USAGE_MISSING] = True
        return cost


def error_type(error: BaseException) -> str:
    """``error.type``: the exception's class name, module-qualified unless built in."""
    cls = type(error)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
