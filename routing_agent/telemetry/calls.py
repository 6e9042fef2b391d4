"""One chat-model call, start to end: its span, metrics and observations (the handler's hot path).

The per-(model, variant) parts are built once (``CallIdentity``); per call the start reads three metadata
values and takes two timestamps; the end reads the response once and creates the ``chat`` span with every
attribute in one go and its real start time (``start_time``), records the histograms with the identity's
cached attribute sets, and hands one compact ``CallObservations`` record to the observation writer, which
builds the ``Observation`` objects on its own thread.

The span is created when the call ends (backdated to its start), not when it starts: nothing runs inside a
chat-model call that could be its child, and one attribute batch costs less than two. Span processors
therefore see its ``on_start`` and ``on_end`` together; exporters, samplers (they see every attribute) and
trace trees are unaffected.
"""

from __future__ import annotations

__all__ = ["CallRecorder", "LLMCall", "ObservationSink", "error_type"]

import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from opentelemetry.context import Context, get_current
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
    """One open chat-model call: its identity, per-call facts, start times and the first-chunk time."""

    __slots__ = (
        "conversation",
        "first",
        "identity",
        "input_messages",
        "parent",
        "run_id",
        "segments",
        "start",
        "start_ns",
        "streamed",
        "unit_id",
    )

    def __init__(  # noqa: PLR0917
        self,
        identity: CallIdentity,
        parent: Context,
        unit_id: str | None,
        segments: Any,
        run_id: UUID | None,
        conversation: str | None = None,
        input_messages: str | None = None,
    ) -> None:
        self.identity = identity
        self.parent = parent  # the OTel context of the span's parent
        self.conversation = conversation
        self.unit_id = unit_id
        self.segments = segments
        self.run_id = run_id
        self.input_messages = input_messages  # gen_ai.input.messages JSON (content capture only)
        self.first: float | None = None  # perf_counter() of the first streamed chunk carrying content
        self.streamed = False  # at least one chunk arrived
        self.start_ns = time.time_ns()  # the span's start time
        self.start = time.perf_counter()

    def routing_attributes(self) -> dict[str, Any]:
        """``routing_agent.*`` attributes of the call, unit id included."""
        attrs = dict(self.identity.routing)
        if self.unit_id is not None:
            attrs[sc.RA_UNIT_ID] = self.unit_id
        return attrs

    def start_attributes(self) -> dict[str, Any]:
        """The attributes known when the call started (a new dict: the caller adds the end's)."""
        attrs = dict(self.identity.start_attributes)
        if self.unit_id is not None:
            attrs[sc.RA_UNIT_ID] = self.unit_id
        if self.conversation is not None:
            attrs[sc.GEN_AI_CONVERSATION_ID] = self.conversation
        if self.input_messages is not None:
            attrs[sc.GEN_AI_INPUT_MESSAGES] = self.input_messages
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
        """Open a call: its identity, unit, conversation and start times (the span comes at the end).

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
        content = None
        if self.capture_content and messages is not None:
            content = input_messages_json(messages)
        segments = md.get(meta.SEGMENTS)
        segments = segments if isinstance(segments, Mapping) else _EMPTY
        if parent is None:  # the span's parent is the current span where the call starts
            parent = get_current()
        return LLMCall(identity, parent, unit_id, segments, run_id, conversation, content)

    def abandon(self, call: LLMCall) -> None:
        """Trace a call that never ended (evicted from the open calls): its span with the start's facts."""
        span = self._span(call, call.start_attributes())
        span.end()

    def _span(self, call: LLMCall, attrs: dict[str, Any]) -> Span:
        return self.tracer.start_span(
            call.identity.span_name,
            context=call.parent,
            kind=SpanKind.CLIENT,
            attributes=attrs,
            start_time=call.start_ns,
        )

    def finish(self, call: LLMCall, response: LLMResult | None, error: BaseException | None) -> None:
        """Trace, record metrics and emit observations for one ended call."""
        end = time.perf_counter()
        identity = call.identity
        attrs = call.start_attributes()
        info = read_response(response) if response is not None else None
        if info is not None and info.reported_latency_s is not None:
            latency: float = info.reported_latency_s
            attrs[sc.RA_LATENCY_S] = latency
            attrs[sc.RA_DURATION_SOURCE] = "reported"
        else:
            latency = end - call.start
            attrs[sc.RA_LATENCY_S] = latency
            attrs[sc.RA_DURATION_SOURCE] = "measured"
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
        span = self._span(call, attrs)
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
