"""``RoutingTelemetry``: the LangChain callback handler that turns a LangGraph run into OTel spans,
metrics and observations.

Span tree (``telemetry.graph_spans``): ``invoke_workflow {graph name}`` → agent spans (``invoke_agent
{name}``), step spans (other nodes) and the routing node's ``route {node}`` → ``chat {model}`` (CLIENT) for
each chat-model call, with GenAI attributes, ``routing_agent.*`` (experiment, variant, unit, reason, cost,
citations), TTFT when the call streamed, and the cost attributes Phoenix and MLflow read.

Runs that are none of these (``RunnableSequence``, channel writes, tools, conditional edges) get no span;
their children attach to the nearest spanned ancestor. A chat model called outside any graph becomes a
child of the current OTel span. Every callback is wrapped: an exception inside telemetry is logged once,
counted in ``routing_agent.telemetry.errors`` and never reaches the graph.
"""

from __future__ import annotations

__all__ = ["RoutingTelemetry"]

import functools
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from opentelemetry import trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.telemetry import semconv as sc
from routing_agent.telemetry.calls import CallRecorder, LLMCall, ObservationSink
from routing_agent.telemetry.citations import CITATIONS_KEY, citation_set
from routing_agent.telemetry.content import capture_enabled
from routing_agent.telemetry.graph_spans import GraphSpans, Run
from routing_agent.telemetry.instruments import Instruments, TelemetryFailures
from routing_agent.telemetry.pricing import Pricer
from routing_agent.telemetry.response import carries_content
from routing_agent.telemetry.spans import is_control_flow, mark_error, serialized_name

_F = TypeVar("_F", bound=Callable[..., Any])

_MAX_OPEN_RUNS = 100_000
_GRAPH_INTEGRATIONS = frozenset({"langgraph", "langchain_create_agent"})


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


class RoutingTelemetry(BaseCallbackHandler):
    """LangChain callback handler: spans + metrics + observations for every chat-model call and graph node.

    Args:
        tracer_provider / meter_provider: the OTel providers to use (default: the global ones).
        observations: where per-call observations go: an ``ObservationStore`` (wrapped in a buffered
            background writer), a ``BufferedObservationWriter``, or None (no observations).
        config: the loaded experiments (YAML prices and ``telemetry.capture_content``).
        pricer: a custom ``Pricer`` (default: YAML prices from ``config``, then genai-prices).
        capture_content: record prompts/responses (default: the env var or the YAML; off).
        agents: the node names that are agents (default: those the YAML names, plus any node that calls a
            chat model itself; see ``telemetry.graph_spans``).
        workflow_name: the workflow name of graphs compiled without a name (LangGraph's ``LangGraph``).
    """

    run_inline = True  # called in the caller's thread/task: timestamps are taken where events happen
    raise_error = False

    # events this handler has no use for: LangChain then does not dispatch them to it at all (not
    # ``ignore_agent``: it also gates tool events, which a sub-agent called from a tool needs as its parent)
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
        agents: Collection[str] | None = None,
        workflow_name: str | None = None,
    ) -> None:
        super().__init__()
        self.meter_provider = meter_provider
        self.tracer = trace.get_tracer("routing_agent", "0.1.0", tracer_provider)
        self.instruments = Instruments(meter_provider)
        self.failures = TelemetryFailures(self.instruments)
        self.capture_content = capture_enabled(
            capture_content, config.telemetry.capture_content if config is not None else None
        )
        self.sink: ObservationSink | None = _as_sink(observations, meter_provider)
        self.recorder = CallRecorder(
            self.tracer, self.instruments, pricer or Pricer(config), self.sink, self.capture_content
        )
        self.graph = GraphSpans(self.tracer, agents, _declared_agents(config), workflow_name)
        self._runs: dict[UUID, Run] = {}  # open chain/tool/retriever runs
        self._calls: dict[int, LLMCall] = {}  # open chat-model calls by run_id.int (UUID.__hash__ is Python)

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
            if parent_run_id is None or md.get("ls_integration") in _GRAPH_INTEGRATIONS:
                self._put(run_id, self.graph.root(str(name), md))
            else:
                self._put(run_id, self.graph.transparent(None))
            return
        self._put(run_id, self.graph.child(parent, str(name), md))

    @_safe
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.pop(run_id, None)
        if run is None or run.span is None:
            return
        if run.node_run is run and isinstance(outputs, Mapping):
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

    def on_llm_new_token(self, token: Any, *, run_id: UUID, chunk: Any = None, **kwargs: Any) -> None:
        """First streamed chunk carrying content: the TTFT timestamp. Kept minimal (called once per chunk)."""
        call = self._calls.get(run_id.int)
        if call is not None and call.first is None:
            call.streamed = True
            try:
                if carries_content(token, chunk):
                    call.first = time.perf_counter()
            except Exception as exc:
                self.failures.record("on_llm_new_token", exc)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            call = self._calls.pop(run_id.int, None)
            if call is not None:
                self.recorder.finish(call, response, None)
        except Exception as exc:
            self.failures.record("on_llm_end", exc)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            call = self._calls.pop(run_id.int, None)
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
        agent = self.graph.agent_for_call(parent) if parent is not None else None
        root = parent.root if parent is not None else None
        call = self.recorder.start(
            metadata,
            kwargs.get("invocation_params"),
            operation,
            run_id,
            parent.ctx if parent is not None else None,
            messages,
            root.conversation if root is not None else None,
        )
        if parent is not None and call.conversation is not None:
            self.graph.learn_conversation(parent, call.conversation)
        if agent is not None and not agent.routed:
            self._tag_agent(agent, call)
        if len(self._calls) >= _MAX_OPEN_RUNS:  # calls that never ended (abandoned generators): drop oldest
            self.recorder.abandon(self._calls.pop(next(iter(self._calls))))
            self.failures.record("open_runs", OverflowError(f"more than {_MAX_OPEN_RUNS} open calls"))
        self._calls[run_id.int] = call

    def _tag_agent(self, agent: Run, call: LLMCall) -> None:
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

    def _node_outputs(self, run: Run, outputs: Mapping[str, Any]) -> None:
        span = run.span
        assert span is not None
        cites = outputs.get(CITATIONS_KEY)
        if cites is not None:
            found = citation_set(cites)
            if found is not None:
                span.set_attribute(sc.RA_CITATIONS, list(found))
        self.graph.node_outputs(run, outputs)

    def _transparent(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        self._put(run_id, self.graph.transparent(parent))

    def _put(self, run_id: UUID, run: Run) -> None:
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


def _as_sink(observations: Any, meter_provider: MeterProvider | None) -> ObservationSink | None:
    if observations is None:
        return None
    if hasattr(observations, "add_many") and hasattr(observations, "flush"):
        return cast(ObservationSink, observations)
    from routing_agent.stores.observations.writer import BufferedObservationWriter

    return BufferedObservationWriter(observations, meter_provider=meter_provider)


def _declared_agents(config: ExperimentsConfig | None) -> set[str]:
    """Agents the YAML names: ``agents:`` entries and experiment scopes."""
    if config is None:
        return set()
    names = set(config.agents)
    for spec in config.experiments:
        names.update(spec.scope or ())
    return names
