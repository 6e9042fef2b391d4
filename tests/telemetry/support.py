"""A scripted LangChain chat model and a three-agent routed LangGraph graph for telemetry tests."""

from __future__ import annotations

import operator
import time
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from pydantic import Field

from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec, VariantSpec
from routing_agent.graph import RoutingNode, RoutingState, routed_model
from routing_agent.providers.catalog import ModelCatalog


class ScriptedChatModel(BaseChatModel):
    """Answers with ``text`` split into word chunks; usage, metadata and delays are set per instance."""

    model: str = "gpt-4o"
    text: str = "the answer is 42"
    input_tokens: int = 120
    output_tokens: int = 30
    cache_read: int = 0
    first_chunk_delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    extra_metadata: dict[str, Any] = Field(default_factory=dict)
    fail_with: str | None = None
    streaming: bool = False

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        return LangSmithParams(ls_provider="scripted", ls_model_name=self.model, ls_model_type="chat")

    def _usage(self) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
        }
        if self.cache_read:
            usage["input_token_details"] = {"cache_read": self.cache_read}
        return usage

    def _metadata(self) -> dict[str, Any]:
        return {"model_name": self.model + "-2024-08-06", "finish_reason": "stop", **self.extra_metadata}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.fail_with:
            raise TimeoutError(self.fail_with)
        time.sleep(self.first_chunk_delay_s + self.chunk_delay_s)
        message = AIMessage(
            content=self.text, usage_metadata=self._usage(), response_metadata=self._metadata()
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if self.fail_with:
            raise TimeoutError(self.fail_with)
        words = self.text.split(" ")
        time.sleep(self.first_chunk_delay_s)
        for i, word in enumerate(words):
            if i:
                time.sleep(self.chunk_delay_s)
            last = i == len(words) - 1
            chunk = AIMessageChunk(
                content=word if i == 0 else " " + word,
                usage_metadata=self._usage() if last else None,  # type: ignore[arg-type]
                response_metadata=self._metadata() if last else {},
            )
            gen = ChatGenerationChunk(message=chunk)
            if run_manager is not None:
                run_manager.on_llm_new_token(str(chunk.content), chunk=gen)
            yield gen


AGENTS = ("triage", "research", "writer")


class State(RoutingState, total=False):
    session_id: str
    tier: str
    topic: str
    notes: Annotated[list[str], operator.add]
    answer: str
    citations: list[str]


def experiments(**overrides: Any) -> ExperimentsConfig:
    spec = ExperimentSpec(
        id="exp-support",
        variants=(
            VariantSpec(name="control", model="scripted:gpt-4o", control=True),
            VariantSpec(name="candidate", model="scripted:gpt-4o-mini"),
        ),
        segments=("tier",),
    )
    return ExperimentsConfig(experiments=(spec,), **overrides)


def scripted_catalog(**model_kwargs: Any) -> ModelCatalog:
    models = ModelCatalog()

    def factory(name: str, params: Mapping[str, Any]) -> BaseChatModel:
        return ScriptedChatModel(model=name, **{**model_kwargs, **params})

    models.register("scripted", factory)
    return models


def build_graph(config: ExperimentsConfig, models: ModelCatalog, *, fan_out: int = 2) -> Any:
    """route → triage → research ×fan_out (Send) → writer. Every agent calls its routed model."""

    def triage(state: State, config: RunnableConfig) -> dict[str, Any]:
        llm = routed_model(state, config, models=models)
        return {"topic": str(llm.invoke("classify: " + state.get("session_id", "")).content)}

    def fan(state: State) -> list[Send]:
        return [Send("research", {**state, "topic": f"part-{i}"}) for i in range(fan_out)]

    def research(state: State, config: RunnableConfig) -> dict[str, Any]:
        llm = routed_model(state, config, models=models)
        return {"notes": [str(llm.invoke("research " + state.get("topic", "")).content)]}

    def writer(state: State, config: RunnableConfig) -> dict[str, Any]:
        llm = routed_model(state, config, models=models)
        reply = llm.invoke("write from notes: " + "; ".join(state.get("notes", [])))
        return {"answer": str(reply.content), "citations": ["doc-2", "doc-1", "doc-2"]}

    g = StateGraph(State)
    g.add_node("route", RoutingNode(config))
    g.add_node("triage", triage)
    g.add_node("research", research)
    g.add_node("writer", writer)
    g.add_edge(START, "route")
    g.add_edge("route", "triage")
    g.add_conditional_edges("triage", fan, ["research"])
    g.add_edge("research", "writer")
    g.add_edge("writer", END)
    return g.compile(name="support-flow")
