"""One chat-model call: its identity (from run metadata), and what is recorded when it ends.

``LLMRun`` is read once at ``on_chat_model_start`` from the run metadata: ``routed_model`` puts experiment,
variant, unit, reason, agent and model id there (``routing_agent.graph.metadata``); LangChain adds
``ls_provider``/``ls_model_name``; LangGraph adds ``langgraph_node`` and ``thread_id``. ``CallRecorder`` turns
the end of the call into span attributes, metric points and ``Observation``s. Attribute dicts that depend
only on (model, experiment, variant, agent) are built once and cached.
"""

from __future__ import annotations

__all__ = ["CallRecorder", "LLMRun", "ObservationSink", "error_type"]

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.outputs import LLMResult
from opentelemetry.trace import Span, Status, StatusCode

from routing_agent.graph import metadata as meta
from routing_agent.observations.record import Metric, Observation
from routing_agent.telemetry import semconv as sc
from routing_agent.telemetry.content import output_messages_json
from routing_agent.telemetry.instruments import Instruments
from routing_agent.telemetry.pricing import Pricer
from routing_agent.telemetry.response import ResponseInfo, read_response


class ObservationSink(Protocol):
    """Where the handler sends observations; must not block (``BufferedObservationWriter`` is one)."""

    def add_many(self, observations: Sequence[Observation]) -> None: ...

    def flush(self, timeout_s: float = ...) -> bool: ...


_Opt = str | None
_CacheKey = tuple[str, str, _Opt, _Opt, _Opt, _Opt, _Opt, _Opt, _Opt, _Opt]


@dataclass(slots=True)
class LLMRun:
    """Identity of one chat-model call, read from its run metadata."""

    operation: str
    provider: str  # gen_ai.provider.name
    raw_provider: str | None  # LangChain provider id (for pricing)
    request_model: str | None
    model_id: str | None
    experiment: str | None
    variant: str | None
    unit: str | None
    unit_id: str | None
    reason: str | None
    agent: str | None
    segments: Mapping[str, str]
    conversation_id: str | None
    temperature: float | None
    max_tokens: int | None
    start: float = field(default_factory=time.perf_counter)
    run_key: str = ""  # the LangChain run id (hex): observation idempotency keys
    role: str | None = None  # routing_agent.role run metadata: "judge", "shadow" or None

    @classmethod
    def from_metadata(cls, md: Mapping[str, Any], params: Mapping[str, Any], operation: str) -> LLMRun:
        """Read a call's identity; tolerant of any missing key."""
        model_id = md.get(meta.MODEL_ID)
        provider: str | None = None
        model_name: str | None = None
        if isinstance(model_id, str) and ":" in model_id:
            provider, _, model_name = model_id.partition(":")
        provider = provider or md.get("ls_provider") or params.get("_type") or "unknown"
        request_model = md.get("ls_model_name") or params.get("model") or params.get("model_name")
        request_model = request_model or model_name
        unit = md.get(meta.UNIT)
        unit_id = md.get(meta.UNIT_ID)
        thread = md.get("thread_id")
        conversation = unit_id if unit == "session" and unit_id is not None else thread
        segments = md.get(meta.SEGMENTS)
        temperature = md.get("ls_temperature")
        max_tokens = md.get("ls_max_tokens")
        return cls(
            operation=operation,
            provider=sc.PROVIDER_NAMES.get(str(provider), str(provider)),
            raw_provider=str(provider),
            request_model=str(request_model) if request_model else None,
            model_id=model_id if isinstance(model_id, str) else None,
            experiment=md.get(meta.EXPERIMENT),
            variant=md.get(meta.VARIANT),
            unit=unit,
            unit_id=str(unit_id) if unit_id is not None else None,
            reason=md.get(meta.REASON),
            agent=md.get(meta.AGENT) or md.get("langgraph_node"),
            segments=segments if isinstance(segments, Mapping) else {},
            conversation_id=str(conversation) if conversation is not None else None,
            temperature=float(temperature) if isinstance(temperature, int | float) else None,
            max_tokens=int(max_tokens) if isinstance(max_tokens, int) else None,
            role=str(md[sc.RA_ROLE]) if md.get(sc.RA_ROLE) is not None else None,
        )

    @property
    def span_name(self) -> str:
        """``{operation} {request model}`` (the operation alone when the model is unknown)."""
        return f"{self.operation} {self.request_model}" if self.request_model else self.operation

    def cache_key(self) -> _CacheKey:
        return (
            self.operation,
            self.provider,
            self.request_model,
            self.model_id,
            self.experiment,
            self.variant,
            self.unit,
            self.reason,
            self.agent,
            self.role,
        )

    def routing_attributes(self) -> dict[str, Any]:
        """``routing_agent.*`` attributes: experiment, variant, unit, reason, agent, model id."""
        attrs: dict[str, Any] = {}
        for key, value in (
            (sc.RA_EXPERIMENT, self.experiment),
            (sc.RA_VARIANT, self.variant),
            (sc.RA_UNIT, self.unit),
            (sc.RA_UNIT_ID, self.unit_id),
            (sc.RA_REASON, self.reason),
            (sc.RA_AGENT, self.agent),
            (sc.RA_MODEL_ID, self.model_id),
            (sc.RA_ROLE, self.role),
        ):
            if value is not None:
                attrs[key] = str(value)
        return attrs


@dataclass(frozen=True, slots=True)
class _Cached:
    span: dict[str, Any]
    metric: dict[str, Any]
    tokens_in: dict[str, Any]
    tokens_out: dict[str, Any]


class CallRecorder:
    """Records the end of a call: span attributes, metrics, observations."""

    def __init__(
        self,
        instruments: Instruments,
        pricer: Pricer,
        sink: ObservationSink | None,
        capture_content: bool,
    ) -> None:
        self.instruments = instruments
        self.pricer = pricer
        self.sink = sink
        self.capture_content = capture_content
        self._cache: dict[_CacheKey, _Cached] = {}

    def _cached(self, llm: LLMRun) -> _Cached:
        key = llm.cache_key()
        found = self._cache.get(key)
        if found is not None:
            return found
        span = {sc.GEN_AI_OPERATION_NAME: llm.operation, sc.GEN_AI_PROVIDER_NAME: llm.provider}
        if llm.request_model:
            span[sc.GEN_AI_REQUEST_MODEL] = llm.request_model
        routing = llm.routing_attributes()
        routing.pop(sc.RA_UNIT_ID, None)  # per call, added at start
        span.update(routing)
        metric = {sc.GEN_AI_OPERATION_NAME: llm.operation, sc.GEN_AI_PROVIDER_NAME: llm.provider}
        if llm.request_model:
            metric[sc.GEN_AI_REQUEST_MODEL] = llm.request_model
        for key_name, value in (
            (sc.RA_EXPERIMENT, llm.experiment),
            (sc.RA_VARIANT, llm.variant),
            (sc.RA_ROLE, llm.role),
        ):
            if value is not None:
                metric[key_name] = str(value)
        found = _Cached(
            span=span,
            metric=metric,
            tokens_in={**metric, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT},
            tokens_out={**metric, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT},
        )
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = found
        return found

    def start_attributes(self, llm: LLMRun) -> dict[str, Any]:
        """Attributes known when the call starts (a fresh dict the caller may extend)."""
        attrs = dict(self._cached(llm).span)
        if llm.unit_id is not None:
            attrs[sc.RA_UNIT_ID] = llm.unit_id
        if llm.conversation_id is not None:
            attrs[sc.GEN_AI_CONVERSATION_ID] = llm.conversation_id
        if llm.temperature is not None:
            attrs[sc.GEN_AI_REQUEST_TEMPERATURE] = llm.temperature
        if llm.max_tokens is not None:
            attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] = llm.max_tokens
        return attrs

    def finish(
        self,
        llm: LLMRun,
        span: Span,
        response: LLMResult | None,
        error: BaseException | None,
        first_chunk: float | None,
    ) -> None:
        """Complete the span, record metrics and emit observations for one ended call."""
        measured = time.perf_counter() - llm.start
        info = read_response(response) if response is not None else None
        reported = info is not None and info.reported_latency_s is not None
        latency = info.reported_latency_s if info is not None and reported else measured
        assert latency is not None
        ttft: float | None = None
        if first_chunk is not None:
            ttft = first_chunk - llm.start
            if info is not None and info.reported_ttft_s is not None:
                ttft = info.reported_ttft_s
        cached = self._cached(llm)
        attrs: dict[str, Any] = {
            sc.RA_LATENCY_S: latency,
            sc.RA_DURATION_SOURCE: "reported" if reported else "measured",
        }
        if ttft is not None:
            attrs[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = ttft
            attrs[sc.GEN_AI_REQUEST_STREAM] = True
        cost: float | None = None
        if info is not None:
            cost = self._response_attributes(llm, info, attrs)
            if self.capture_content and response is not None and response.generations:
                attrs[sc.GEN_AI_OUTPUT_MESSAGES] = output_messages_json(response.generations[0])
        span.set_attributes(attrs)
        kind = None
        if error is not None:
            kind = error_type(error)
            span.set_attribute(sc.ERROR_TYPE, kind)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:512]))
            span.record_exception(error)
        span.end()

        inst = self.instruments
        metric = cached.metric if kind is None else {**cached.metric, sc.ERROR_TYPE: kind}
        inst.duration.record(latency, metric)
        if ttft is not None:
            inst.ttft.record(ttft, cached.metric)
        if info is not None and info.usage is not None:
            inst.tokens.record(info.usage.input, cached.tokens_in)
            inst.tokens.record(info.usage.output, cached.tokens_out)
        if cost is not None:
            inst.cost.add(cost, cached.metric)
        elif info is not None:
            inst.unpriced.add(1, cached.metric)
        live = llm.role != sc.ROLE_SHADOW  # shadow/replay runs are traced, never counted as traffic
        if self.sink is not None and live and llm.experiment and llm.variant and llm.unit_id:
            self._observe(llm, span, info, error is not None, latency, ttft, cost)

    def _response_attributes(self, llm: LLMRun, info: ResponseInfo, attrs: dict[str, Any]) -> float | None:
        if info.response_model:
            attrs[sc.GEN_AI_RESPONSE_MODEL] = info.response_model
        if info.response_id:
            attrs[sc.GEN_AI_RESPONSE_ID] = info.response_id
        if info.finish_reasons:
            attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = list(info.finish_reasons)
        if info.refusal:
            attrs[sc.RA_REFUSAL] = True
        if info.citations is not None:
            attrs[sc.RA_CITATIONS] = list(info.citations)
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
            cost = self.pricer.cost(
                usage,
                provider=llm.raw_provider,
                model=llm.request_model,
                model_id=llm.model_id,
                experiment=llm.experiment,
            )
        if cost is not None:
            attrs[sc.RA_COST_USD] = cost
        else:
            attrs[sc.RA_UNPRICED] = True
        return cost

    def _observe(  # noqa: PLR0917
        self,
        llm: LLMRun,
        span: Span,
        info: ResponseInfo | None,
        failed: bool,
        latency: float,
        ttft: float | None,
        cost: float | None,
    ) -> None:
        ctx = span.get_span_context()
        trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else None
        span_id = format(ctx.span_id, "016x") if ctx.is_valid else None
        values: list[tuple[str, float]] = [
            (Metric.CALLS, 1.0),
            (Metric.LATENCY_S, latency),
            (Metric.ERROR, 1.0 if failed else 0.0),
        ]
        if ttft is not None:
            values.append((Metric.TTFT_S, ttft))
        if info is not None:
            values.append((Metric.REFUSAL, 1.0 if info.refusal else 0.0))
            if info.usage is not None:
                values.append((Metric.INPUT_TOKENS, float(info.usage.input)))
                values.append((Metric.OUTPUT_TOKENS, float(info.usage.output)))
            values.append((Metric.UNPRICED, 0.0 if cost is not None else 1.0))
            if cost is not None:
                values.append((Metric.COST_USD, cost))
        assert llm.experiment and llm.variant and llm.unit_id and self.sink is not None
        self.sink.add_many(_CallObservations(llm, values, time.time(), trace_id, span_id))


class _CallObservations(Sequence[Observation]):
    """The observations of one call, built lazily (on the writer thread) from one compact record."""

    __slots__ = ("_llm", "_span_id", "_trace_id", "_ts", "_values")

    def __init__(
        self,
        llm: LLMRun,
        values: list[tuple[str, float]],
        ts: float,
        trace_id: str | None,
        span_id: str | None,
    ) -> None:
        self._llm, self._values, self._ts, self._trace_id, self._span_id = llm, values, ts, trace_id, span_id

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: Any) -> Any:
        return list(self)[index]

    def __iter__(self) -> Iterator[Observation]:
        llm = self._llm
        assert llm.experiment and llm.variant and llm.unit_id
        key = llm.run_key or self._span_id or f"{id(llm):x}"
        segments = dict(llm.segments)
        for name, value in self._values:
            yield Observation(
                experiment=llm.experiment,
                variant=llm.variant,
                unit_id=llm.unit_id,
                metric=str(name),
                value=value,
                agent=llm.agent,
                segments=segments,
                ts=self._ts,
                trace_id=self._trace_id,
                span_id=self._span_id,
                id=f"{key}:{name}",
            )


def error_type(error: BaseException) -> str:
    """``error.type``: the exception's class name, module-qualified unless built in."""
    cls = type(error)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
