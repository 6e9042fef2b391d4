"""``SimulatedChatModel``: an offline LangChain chat model that behaves like a real provider.

Use it by id in YAML — ``simulated:fast-cheap`` — or directly::

    model = SimulatedChatModel(sim_profile="strong-expensive", seed=7, time_scale=0.001)
    model.invoke("Classify this ticket: ...")

What a call does (every step deterministic given profile, seed and input; random across inputs):

1. the prompt is hashed; draws keyed on that hash decide everything below (``simulated_draws``);
2. a prompt longer than the profile's context window raises ``ContextOverflowError``; a sampled provider
   error raises LangChain's ``ModelRateLimitError`` / ``ModelAPIError`` / ``ModelConnectionError``
   (``simulated_errors``); a call slower than ``timeout`` raises ``ModelTimeoutError``;
3. a refusal returns a refusal message (``finish_reason: "refusal"``, a standard ``refusal`` content block);
4. otherwise an oracle (``tasks``) says what the prompt asks and what is right, and the profile answers
   right with probability ``p_correct(difficulty)`` or plausibly wrong (``simulated_text``); with tools bound
   under automatic tool choice it calls the tool the question asks for, with arguments read from the
   question, and answers after the tool results (``simulated_tools``: a ``create_agent`` loop runs offline);
5. the call sleeps ``simulated latency × time_scale`` and reports the *simulated* latency and time to
   first token in ``response_metadata`` (``simulated_latency_s``, ``simulated_ttft_s``) next to
   ``model_name``, ``model_provider``, ``finish_reason``, with token counts in ``usage_metadata``.

``time_scale`` defaults to the process setting (``set_time_scale``; env ``ROUTING_AGENT_SIM_TIME_SCALE``;
1.0 = real time). Errors are a property of the input: retrying an identical request fails the same way.
"""

from __future__ import annotations

__all__ = [
    "LATENCY_KEY",
    "PROFILE_KEY",
    "TIME_SCALE_KEY",
    "TTFT_KEY",
    "SimulatedChatModel",
    "get_time_scale",
    "set_time_scale",
]

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

from routing_agent.providers.catalog import catalog
from routing_agent.providers.profiles import SimulatedProfile, profiles
from routing_agent.providers.simulated_call import SimulatedCall, simulate
from routing_agent.providers.simulated_structured import register_translator, structured_runnable
from routing_agent.providers.tasks import Oracle

LATENCY_KEY = "simulated_latency_s"
"""``response_metadata`` key: the simulated total latency in seconds (what a real call would have taken)."""
TTFT_KEY = "simulated_ttft_s"
"""``response_metadata`` key: the simulated time to first token in seconds."""
TIME_SCALE_KEY = "time_scale"
"""``response_metadata`` key: the factor applied to simulated seconds to get the seconds actually slept."""
PROFILE_KEY = "simulated_profile"
"""``response_metadata`` key: the profile name."""


class _Settings:
    time_scale = float(os.environ.get("ROUTING_AGENT_SIM_TIME_SCALE", "1.0"))


_settings = _Settings()
_MIN_SLEEP_S = 0.0005  # shorter sleeps are batched: time.sleep's own overhead is ~0.05-0.1 ms


def set_time_scale(scale: float) -> None:
    """Set the process-wide default time scale (0 = no sleeping, 1 = real time)."""
    if scale < 0:
        raise ValueError("time scale must be >= 0")
    _settings.time_scale = float(scale)


def get_time_scale() -> float:
    """The process-wide default time scale."""
    return _settings.time_scale


class SimulatedChatModel(BaseChatModel):
    """A chat model whose quality, latency, errors and habits come from a ``SimulatedProfile``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sim_profile: str | SimulatedProfile = "fast-cheap"
    """A registered profile name (see ``profiles``) or a profile object. (``profile`` is LangChain's
    capability profile, filled from it: context window, tool calling, structured output.)"""
    seed: int = 0
    """Changes every draw: the same input with another seed is a fresh sample."""
    time_scale: float | None = Field(default=None, ge=0)
    """Seconds slept per simulated second (None: the process default, see ``set_time_scale``)."""
    temperature: float | None = None
    """Accepted and reported like a real model's; the simulation samples per input, not per temperature."""
    max_tokens: int | None = Field(default=None, ge=1)
    """Output cap; longer answers are cut with ``finish_reason: "length"``."""
    timeout: float | None = Field(default=None, gt=0)
    """Simulated seconds after which a call raises ``ModelTimeoutError`` (streams: before the first token)."""
    oracle: Oracle | None = Field(default=None, exclude=True)
    """Oracle for this model only (default: the process-wide ``oracles`` registry)."""

    @property
    def _llm_type(self) -> str:
        return "simulated"

    @property
    def model_name(self) -> str:
        """The reported model name of the profile."""
        return self.resolved_profile.reported_model

    @property
    def resolved_profile(self) -> SimulatedProfile:
        """The profile object (looked up per call, so re-registering a profile takes effect)."""
        spec = self.sim_profile
        return spec if isinstance(spec, SimulatedProfile) else profiles.get(spec)

    @property
    def _identifying_params(self) -> dict[str, Any]:
        spec = self.sim_profile
        name = spec.name if isinstance(spec, SimulatedProfile) else spec
        return {"profile": name, "seed": self.seed, "max_tokens": self.max_tokens}

    def _resolve_model_profile(self) -> ModelProfile | None:
        spec = self.resolved_profile
        return ModelProfile(
            name=spec.reported_model,
            max_input_tokens=spec.context_window,
            max_output_tokens=spec.output.max_tokens,
            text_inputs=True,
            text_outputs=True,
            tool_calling=True,
            tool_choice=True,
            structured_output=True,
            temperature=True,
        )

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(ls_provider="simulated", ls_model_name=self.model_name, ls_model_type="chat")
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        if stop:
            params["ls_stop"] = stop
        return params

    # ------------------------------------------------------------------ core
    def _call(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: Mapping[str, Any]
    ) -> SimulatedCall:
        return simulate(
            messages,
            profile=self.resolved_profile,
            seed=self.seed,
            oracle=self.oracle,
            tools=kwargs.get("tools") or (),
            tool_choice=kwargs.get("tool_choice"),
            stop=stop,
            max_tokens=self.max_tokens,
            timeout=self.timeout,
        )

    def _scale(self) -> float:
        return _settings.time_scale if self.time_scale is None else self.time_scale

    def _metadata(self, call: SimulatedCall, scale: float) -> dict[str, Any]:
        return {
            "model_name": call.model_name,
            "model_provider": "simulated",
            "finish_reason": call.finish_reason,
            LATENCY_KEY: call.latency_s,
            TTFT_KEY: call.ttft_s,
            TIME_SCALE_KEY: scale,
            PROFILE_KEY: call.profile,
        }

    def _message(self, call: SimulatedCall, scale: float) -> AIMessage:
        return AIMessage(
            content=call.text,
            tool_calls=list(call.tool_calls),
            invalid_tool_calls=list(call.invalid_tool_calls),
            additional_kwargs={"refusal": call.text} if call.refusal else {},
            response_metadata=self._metadata(call, scale),
            usage_metadata=call.usage(),
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._call(messages, stop, kwargs)
        scale = self._scale()
        error, after = call.failure()
        if error is not None:
            _sleep(after * scale)
            raise error
        _sleep(call.latency_s * scale)
        return ChatResult(generations=[ChatGeneration(message=self._message(call, scale))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._call(messages, stop, kwargs)
        scale = self._scale()
        error, after = call.failure()
        if error is not None:
            await _asleep(after * scale)
            raise error
        await _asleep(call.latency_s * scale)
        return ChatResult(generations=[ChatGeneration(message=self._message(call, scale))])

    def _chunks(self, call: SimulatedCall, scale: float) -> Iterator[tuple[float, ChatGenerationChunk]]:
        """(simulated seconds to wait before it, chunk) for every chunk of the stream."""
        pieces = call.pieces()
        per_token = call.per_token_s
        extra: dict[str, Any] = {"refusal": call.text} if call.refusal else {}
        for i, piece in enumerate(pieces):
            wait = call.ttft_s if i == 0 else per_token * piece.tokens
            chunk = AIMessageChunk(content=piece.text, additional_kwargs=extra if i == 0 else {})
            yield wait, ChatGenerationChunk(message=chunk)
        tool_chunks = [
            tool_call_chunk(name=tc["name"], args=args, id=tc["id"], index=i)
            for i, (tc, args) in enumerate(call.tool_call_args())
        ]
        final = AIMessageChunk(
            content="",
            tool_call_chunks=tool_chunks,
            response_metadata=self._metadata(call, scale),
            usage_metadata=call.usage(),
            chunk_position="last",
        )
        yield (call.ttft_s if not pieces else 0.0), ChatGenerationChunk(message=final)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        call = self._call(messages, stop, kwargs)
        scale = self._scale()
        error, after = call.stream_failure()
        if error is not None:
            _sleep(after * scale)
            raise error
        debt = 0.0
        for wait, chunk in self._chunks(call, scale):
            debt += wait * scale
            if debt >= _MIN_SLEEP_S:
                time.sleep(debt)
                debt = 0.0
            if run_manager is not None and chunk.message.content:
                run_manager.on_llm_new_token(str(chunk.message.content), chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        call = self._call(messages, stop, kwargs)
        scale = self._scale()
        error, after = call.stream_failure()
        if error is not None:
            await _asleep(after * scale)
            raise error
        debt = 0.0
        for wait, chunk in self._chunks(call, scale):
            debt += wait * scale
            if debt >= _MIN_SLEEP_S:
                await asyncio.sleep(debt)
                debt = 0.0
            if run_manager is not None and chunk.message.content:
                await run_manager.on_llm_new_token(str(chunk.message.content), chunk=chunk)
            yield chunk

    # ------------------------------------------------------------ tools / structured output
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any form ``convert_to_openai_tool`` accepts). ``tool_choice``: a tool name,
        ``"any"``/``"required"``/``True`` (must call one), ``"auto"`` or ``"none"``."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is True or tool_choice == "any":
            tool_choice = "required"
        elif isinstance(tool_choice, str) and tool_choice not in ("auto", "none", "required"):
            tool_choice = {"type": "function", "function": {"name": tool_choice}}
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: str = "function_calling",
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Structured output through a forced tool call (for every ``method``), parsed into ``schema``.

        Malformed arguments raise ``OutputParserException``; a refusal raises ``ModelRefusalError``, as
        LangChain's provider integrations do. With ``include_raw`` the result is
        ``{"raw", "parsed", "parsing_error"}`` and parsing errors are returned, not raised.
        """
        tool = _as_tool(schema)
        name = tool["function"]["name"]
        bound = self.bind_tools(
            [tool],
            tool_choice=name,
            ls_structured_output_format={"kwargs": {"method": method}, "schema": tool},
        )
        return structured_runnable(bound, schema, name, include_raw=include_raw)


@lru_cache(maxsize=256)
def _tool_for_type(schema: type) -> dict[str, Any]:
    return convert_to_openai_tool(schema)


def _as_tool(schema: dict[str, Any] | type) -> dict[str, Any]:
    """The OpenAI tool form of a schema (cached for classes: building a JSON schema costs ~1 ms)."""
    return _tool_for_type(schema) if isinstance(schema, type) else convert_to_openai_tool(schema)


def _sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


async def _asleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


def _factory(name: str, params: Mapping[str, Any]) -> BaseChatModel:
    profiles.get(name)  # fail at resolution time with the list of known profiles
    model = SimulatedChatModel(sim_profile=name, **dict(params))
    # LangChain serializes a model for every callback run and caches it on the instance; warming the cache
    # here lets the per-agent copies ``routed_model`` makes (``model_copy``) inherit it.
    _ = model._serialized
    return model


register_translator()
catalog.register("simulated", _factory, replace=True)
