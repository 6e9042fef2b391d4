"""``RoutingTelemetry``: the LangChain callback handler that turns a LangGraph run into OTel spans,
metrics and observations.

Span tree (built from LangChain's ``run_id``/``parent_run_id``, so it is right under ``Send`` fan-out,
subgraphs, threads and asyncio, where context variables alone are not):

* ``invoke_workflow {graph name}`` (INTERNAL) — the root run of a LangGraph graph;
* ``invoke_agent {node}`` (INTERNAL) — each LangGraph node task (a new ``langgraph_checkpoint_ns``), with
  ``gen_ai.agent.name``; the routing node's span is renamed ``route {node}`` and carries the decision;
* ``chat {model}`` (CLIENT) — each chat-model call, with GenAI attributes, ``routing_agent.*`` (experiment,
  variant, unit, reason, cost, citations) and TTFT when the call streamed.

Runs that are neither (``RunnableSequence``, channel writes, tools, conditional edges) get no span; their
children attach to the nearest spanned ancestor. A chat model called outside any graph becomes a child of
the current OTel span. Every callback is wrapped: an exception inside telemetry is logged once, counted in
``routing_agent.telemetry.errors`` and never reaches the graph.
"""

from __future__ import annotations

__all__ = ["RoutingTelemetry"]

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, SpanKind, TracerProvider

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.telemetry import semconv as sc
from routing_agent.telemetry.calls import CallRecorder, LLMCall, ObservationSink
from routing_agent.telemetry.citations import CITATIONS_KEY, citation_set
from routing_agent.telemetry.content import capture_enabled
from routing_agent.telemetry.instruments import Instruments, TelemetryFailures
from routing_agent.telemetry.pricing import Pricer
from routing_agent.telemetry.spans import assignment_attributes, is_control_flow, mark_error, serialized_name

_F = TypeVar("_F", bound=Callable[..., Any])

_ROUTING_KEY = "routing"  # routing_agent.graph.state.ROUTING_KEY (kept literal: no import cycle at load)
_ROUTING_NODE_KEYS = frozenset({_ROUTING_KEY, "routing_defaults"})  # all a RoutingNode ever returns
_MAX_OPEN_RUNS = 100_000


def _safe(func: _F) -> _F:
    """Run a callback; on any exception count it, log it once, and return None."""

    @functools.wraps(func)
    def wrapper(self: RoutingTelemetry, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(self, *args, **kwargs)
        except Exception as exc:
            self.failures.record(func.__name__, exc)
            return None

    return cast(_F, wrapper)


@dataclass(slots=True)
class _Run:
    """One open LangChain run: a span of ours, or a transparent run that passes its parent's context on."""

    span: Span | None
    ctx: Context | None  # the context children are started in
    ns: str | None  # LangGraph checkpoint namespace (identifies a node task)
    agent: _Run | None = None  # the nearest agent-span run (itself for agent runs)
    root: _Run | None = None  # the workflow run
    node: str | None = None
    routed: bool = False  # agent span already carries routing attributes


class RoutingTelemetry(BaseCallbackHandler):
    """LangChain callback handler: spans + metrics + observations for every chat-model call and graph node.

    Args:
        tracer_provider / meter_provider: the OTel providers to use (default: the global ones).
        observations: where per-call observations go: an ``ObservationStore`` (wrapped in a buffered
            background writer), a ``BufferedObservationWriter``, or None (no observations).
        config: the loaded experiments (YAML prices and ``telemetry.capture_content``).
        pricer: a custom ``Pricer`` (default: YAML prices from ``config``, then genai-prices).
        capture_content: record prompts/responses (default: the env var or the YAML; off).
    """

    run_inline = True  # called in the caller's thread/task: timestamps are taken where events happen
    raise_error = False

    # events this handler has no use for: LangChain then does not dispatch them to it at all
    @property
    def ignore_agent(self) -> bool:
        return True

    @property
    def ignore_retry(self) -> bool:
        return True

    @property
    def ignore_custom_event(self) -> bool:
        return True

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        observations: Any = None,
        config: ExperimentsConfig | None = None,
        pricer: Pricer | None = None,
        capture_content: bool | None = None,
    ) -> None:
        super().__init__()
        self.tracer = trace.get_tracer("routing_agent", "0.1.0", tracer_provider)
        self.instruments = Instruments(meter_provider)
        self.failures = TelemetryFailures(self.instruments)
        self.capture_content = capture_enabled(
            capture_content, config.telemetry.capture_content if config is not None else None
        )
        self.sink: ObservationSink | None = _as_sink(observations)
        self.recorder = CallRecorder(
            self.tracer, self.instruments, pricer or Pricer(config), self.sink, self.capture_content
        )
        self._runs: dict[UUID, _Run] = {}  # open chain/tool/retriever runs
        self._calls: dict[UUID, LLMCall] = {}  # open chat-model calls

    # -- chains: workflow and agent spans -----------------------------------------------------------

    @_safe
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        md = metadata or {}
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        name = kwargs.get("name") or serialized_name(serialized) or "graph"
        if parent is None:
            if md.get("ls_integration") == "langgraph" or parent_run_id is None:
                attrs: dict[str, Any] = {
                    sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_WORKFLOW,
                    sc.GEN_AI_WORKFLOW_NAME: name,
                }
                thread = md.get("thread_id")
                if thread is not None:
                    attrs[sc.GEN_AI_CONVERSATION_ID] = str(thread)
                span = self.tracer.start_span(
                    f"{sc.OP_INVOKE_WORKFLOW} {name}", kind=SpanKind.INTERNAL, attributes=attrs
                )
                run = _Run(span, trace.set_span_in_context(span), md.get("langgraph_checkpoint_ns"))
                run.root = run
            else:
                run = _Run(None, None, None)
            self._put(run_id, run)
            return
        node = md.get("langgraph_node")
        ns = md.get("langgraph_checkpoint_ns")
        if node is not None and ns is not None and ns != parent.ns and name == node:
            attrs = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: str(node)}
            thread = md.get("thread_id")
            if thread is not None:
                attrs[sc.GEN_AI_CONVERSATION_ID] = str(thread)
            span = self.tracer.start_span(
                f"{sc.OP_INVOKE_AGENT} {node}", context=parent.ctx, kind=SpanKind.INTERNAL, attributes=attrs
            )
            run = _Run(span, trace.set_span_in_context(span), ns, root=parent.root, node=str(node))
            run.agent = run
        else:
            run = _Run(None, parent.ctx, ns if ns is not None else parent.ns, parent.agent, parent.root)
        self._put(run_id, run)

    @_safe
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.pop(run_id, None)
        if run is None or run.span is None:
            return
        if run.agent is run and isinstance(outputs, Mapping):
            self._node_outputs(run, outputs)
        run.span.end()

    @_safe
    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.pop(run_id, None)
        if run is None or run.span is None:
            return
        if not is_control_flow(error):
            mark_error(run.span, error)
        run.span.end()

    # -- tools and retrievers: transparent, so their children find the right parent ----------------

    @_safe
    def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        self._transparent(run_id, parent_run_id)

    @_safe
    def on_retriever_start(
        self, serialized: dict[str, Any], query: str, *, run_id: UUID, parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        self._transparent(run_id, parent_run_id)

    @_safe
    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._runs.pop(run_id, None)

    @_safe
    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._runs.pop(run_id, None)

    @_safe
    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._runs.pop(run_id, None)

    @_safe
    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._runs.pop(run_id, None)

    # -- chat models --------------------------------------------------------------------------------

    # hot path: no decorator layer; the same failure handling as ``_safe``, inline

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._start_llm(run_id, parent_run_id, metadata, kwargs, messages, sc.OP_CHAT)
        except Exception as exc:
            self.failures.record("on_chat_model_start", exc)

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._start_llm(run_id, parent_run_id, metadata, kwargs, None, "text_completion")
        except Exception as exc:
            self.failures.record("on_llm_start", exc)

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """First streamed chunk: the TTFT timestamp. Kept minimal (called once per chunk)."""
        call = self._calls.get(run_id)
        if call is not None and call.first is None:
            call.first = time.perf_counter()

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            call = self._calls.pop(run_id, None)
            if call is not None:
                self.recorder.finish(call, response, None)
        except Exception as exc:
            self.failures.record("on_llm_end", exc)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            call = self._calls.pop(run_id, None)
            if call is not None:
                self.recorder.finish(call, None, error)
        except Exception as exc:
            self.failures.record("on_llm_error", exc)

    # -- helpers ------------------------------------------------------------------------------------

    def _start_llm(  # noqa: PLR0917
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
        messages: list[list[BaseMessage]] | None,
        operation: str,
    ) -> None:
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        call = self.recorder.start(
            metadata,
            kwargs.get("invocation_params"),
            operation,
            run_id,
            parent.ctx if parent is not None else None,
            messages,
        )
        if parent is not None and parent.agent is not None and not parent.agent.routed:
            self._tag_agent(parent.agent, call)
        if len(self._calls) >= _MAX_OPEN_RUNS:  # calls that never ended (abandoned generators): drop oldest
            self._calls.pop(next(iter(self._calls))).span.end()
            self.failures.record("open_runs", OverflowError(f"more than {_MAX_OPEN_RUNS} open calls"))
        self._calls[run_id] = call

    def _tag_agent(self, agent: _Run, call: LLMCall) -> None:
        span = agent.span
        if span is None:
            return
        agent.routed = True
        identity = call.identity
        attrs = {sc.GEN_AI_PROVIDER_NAME: identity.provider}
        if identity.request_model:
            attrs[sc.GEN_AI_REQUEST_MODEL] = identity.request_model
        attrs.update(call.routing_attributes())
        span.set_attributes(attrs)

    def _node_outputs(self, run: _Run, outputs: Mapping[str, Any]) -> None:
        span = run.span
        assert span is not None
        cites = outputs.get(CITATIONS_KEY)
        if cites is not None:
            found = citation_set(cites)
            if found is not None:
                span.set_attribute(sc.RA_CITATIONS, list(found))
        if not outputs.keys() <= _ROUTING_NODE_KEYS:  # a subgraph or agent returns other state keys
            return
        routing = outputs.get(_ROUTING_KEY)
        if not isinstance(routing, Mapping) or not routing:
            return
        records = [r for r in routing.values() if isinstance(r, Mapping) and "experiment" in r]
        if not records:
            return
        span.update_name(f"route {run.node}")
        span.set_attribute(sc.GEN_AI_OPERATION_NAME, "route")
        targets = [span] + ([run.root.span] if run.root is not None and run.root.span is not None else [])
        summary = [f"{r['experiment']}={r.get('variant') or '-'} ({r.get('reason')})" for r in records]
        for target in targets:
            target.set_attribute(sc.RA_ASSIGNMENTS, summary)
            if len(records) == 1:
                for key, value in assignment_attributes(records[0]).items():
                    target.set_attribute(key, value)

    def _transparent(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        if parent is None:
            self._put(run_id, _Run(None, None, None))
        else:
            self._put(run_id, _Run(None, parent.ctx, parent.ns, parent.agent, parent.root))

    def _put(self, run_id: UUID, run: _Run) -> None:
        if len(self._runs) >= _MAX_OPEN_RUNS:  # runs that never ended (abandoned generators): drop oldest
            oldest = next(iter(self._runs))
            stale = self._runs.pop(oldest)
            if stale.span is not None:
                stale.span.end()
            self.failures.record("open_runs", OverflowError(f"more than {_MAX_OPEN_RUNS} open runs"))
        self._runs[run_id] = run

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Write buffered observations now; True when everything was written within the timeout."""
        flush = getattr(self.sink, "flush", None)
        return bool(flush(timeout_s)) if flush is not None else True

    def observations_sink(self) -> ObservationSink | None:
        """Where observations go (None when not configured)."""
        return self.sink


def _as_sink(observations: Any) -> ObservationSink | None:
    if observations is None:
        return None
    if hasattr(observations, "add_many") and hasattr(observations, "flush"):
        return cast(ObservationSink, observations)
    from routing_agent.stores.observations.writer import BufferedObservationWriter

    return BufferedObservationWriter(observations)
