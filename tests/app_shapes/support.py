"""Shared pieces of the app-shape matrix: a scripted tool-calling chat model, the experiment, unit picking,
and the assertions every shape makes (candidate model on every call, variant on every span, observations,
rollback reaching the next call)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from opentelemetry.sdk.trace import ReadableSpan

from routing_agent import load_experiments_from_string
from routing_agent.assignment.hashing import bucket_ranges, choose_variation, hash_v2
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.providers.catalog import catalog
from routing_agent.testing import CapturedTelemetry

EXPERIMENT = "shapes"
_ids = itertools.count()


class ScriptedChatModel(BaseChatModel):
    """Answers with its own name; with tools bound it first calls the first tool, ``{"query": prompt}``."""

    name_: str

    @property
    def _llm_type(self) -> str:
        return "script"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.name_}

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        names = [getattr(t, "name", None) or getattr(t, "__name__", None) for t in tools]
        return self.bind(tool_names=names, **kwargs)

    def _reply(self, messages: list[BaseMessage], tool_names: Sequence[str] | None) -> AIMessage:
        last = messages[-1] if messages else None
        if tool_names and isinstance(last, HumanMessage):
            call = {"name": tool_names[0], "args": {"query": str(last.content)}, "id": f"call-{next(_ids)}"}
            return AIMessage(content="", tool_calls=[call])
        suffix = f" after {last.content}" if isinstance(last, ToolMessage) else ""
        return AIMessage(content=f"{self.name_}{suffix}")

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(
            generations=[ChatGeneration(message=self._reply(messages, kwargs.get("tool_names")))]
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._reply(messages, kwargs.get("tool_names"))
        if reply.tool_calls:
            chunks = [
                {"name": c["name"], "args": str(c["args"]).replace("'", '"'), "id": c["id"], "index": 0}
                for c in reply.tool_calls
            ]
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks))
            return
        for piece in str(reply.content).split(" "):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece + " "))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece + " ", chunk=chunk)
            yield chunk


def _factory(name: str, params: dict[str, Any]) -> BaseChatModel:
    return ScriptedChatModel(name_=name, **params)


catalog.register("script", _factory, replace=True)

YAML = """
version: 1
default_model: {model: "script:default"}
experiments:
  - id: EXPERIMENT
    unit: session
    UNIT_LINES
    variants:
      - {name: control, model: "script:control", weight: 50, control: true}
      - {name: candidate, model: "script:candidate", weight: 50}
""".replace("EXPERIMENT", EXPERIMENT)


def experiments(unit_lines: str = "") -> ExperimentsConfig:
    """The shapes experiment (50/50, every agent); ``unit_lines`` adds e.g. ``unit_source: thread_id``."""
    return load_experiments_from_string(YAML.replace("UNIT_LINES", unit_lines), source="shapes.yaml")


def unit_in(config: ExperimentsConfig, variant: str, prefix: str = "u") -> str:
    """A fresh unit id the hash puts in ``variant``."""
    spec = config.experiments[0]
    names = [v.name for v in spec.variants]
    ranges = bucket_ranges(spec.weights, spec.coverage)
    while True:
        unit = f"{prefix}-{next(_ids)}"
        if names[choose_variation(hash_v2(spec.seed, unit), ranges)] == variant:
            return unit


def chat_spans(telemetry: CapturedTelemetry, since: int = 0) -> list[ReadableSpan]:
    """The chat spans finished after the first ``since`` spans."""
    spans = list(telemetry.exporter.get_finished_spans())[since:]
    return [s for s in spans if (s.attributes or {}).get("gen_ai.operation.name") == "chat"]


def span_count(telemetry: CapturedTelemetry) -> int:
    """How many spans have finished so far."""
    return len(telemetry.exporter.get_finished_spans())


def assert_calls(spans: list[ReadableSpan], *, model: str, variant: str, reason: str | None = None) -> None:
    """Every chat span used ``model`` and carries ``variant`` (and ``reason`` when given)."""
    assert spans, "no model call was traced"
    for span in spans:
        attrs = span.attributes or {}
        assert attrs.get("routing_agent.model_id") == model, (span.name, dict(attrs))
        assert attrs.get("routing_agent.variant") == variant, (span.name, dict(attrs))
        assert attrs.get("routing_agent.experiment") == EXPERIMENT
        if reason is not None:
            assert attrs.get("routing_agent.reason") == reason, dict(attrs)


def observed_calls(telemetry: CapturedTelemetry, unit: str) -> dict[str, int]:
    """``calls`` observations of ``unit`` by variant."""
    counts: dict[str, int] = {}
    for obs in telemetry.observed(EXPERIMENT, "calls"):
        if obs.unit_id == unit:
            counts[obs.variant] = counts.get(obs.variant, 0) + 1
    return counts


def assert_rolled_back(telemetry: CapturedTelemetry, since: int) -> None:
    """Every call after the first ``since`` spans went to control because of the rollback."""
    assert_calls(
        chat_spans(telemetry, since), model="script:control", variant="control", reason="rolled_back"
    )
