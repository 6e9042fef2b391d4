"""One simulated call, decided up front: the answer, the timing, or the error — before any sleeping.

``simulate`` is pure (no clock, no I/O): ``SimulatedChatModel`` turns its ``SimulatedCall`` into an
``AIMessage`` (invoke) or a timed chunk stream (stream).
"""

from __future__ import annotations

__all__ = ["Piece", "SimulatedCall", "simulate"]

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.messages import BaseMessage, InvalidToolCall, ToolCall
from langchain_core.messages.ai import UsageMetadata

from routing_agent.providers.profiles import SimulatedProfile
from routing_agent.providers.simulated_draws import (
    Draws,
    estimate_tokens,
    input_digest,
    message_tokens,
    pick_error,
    sample_timing,
)
from routing_agent.providers.simulated_errors import (
    SimulatedContextOverflowError,
    SimulatedTimeoutError,
    error_for,
)
from routing_agent.providers.simulated_text import REFUSAL_TEXT, Rendered, render
from routing_agent.providers.simulated_tools import choose_tool, plausible_instance, tool_answer, user_text
from routing_agent.providers.tasks import FreeText, Oracle, oracles

_PIECE = re.compile(r"\S+\s*|\s+")
_ERROR_DELAY_S = {"rate_limit": 0.08, "overloaded": 0.15}


@dataclass(frozen=True, slots=True)
class Piece:
    """One streamed chunk of text and its share of output tokens."""

    text: str
    tokens: float


@dataclass(frozen=True)
class SimulatedCall:
    """Everything one call returns or raises, in simulated seconds."""

    model_name: str
    profile: str
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    invalid_tool_calls: tuple[InvalidToolCall, ...] = ()
    finish_reason: str = "stop"
    refusal: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    ttft_s: float = 0.0
    latency_s: float = 0.0
    timeout_s: float | None = None
    error: Exception | None = None
    error_after_s: float = 0.0

    def usage(self) -> UsageMetadata:
        """LangChain ``usage_metadata``."""
        return UsageMetadata(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            total_tokens=self.input_tokens + self.output_tokens,
        )

    def failure(self) -> tuple[Exception | None, float]:
        """(error, simulated seconds before it) for a non-streaming call."""
        return self._failure(waited_s=self.latency_s)

    def stream_failure(self) -> tuple[Exception | None, float]:
        """(error, simulated seconds before it) for a stream: a timeout only if no token came in time."""
        return self._failure(waited_s=self.ttft_s)

    def _failure(self, *, waited_s: float) -> tuple[Exception | None, float]:
        # the drawn error first; else a timeout when the caller would wait longer than timeout_s
        if self.error is not None:
            return self.error, self.error_after_s
        if self.timeout_s is not None and waited_s > self.timeout_s:
            return SimulatedTimeoutError(
                f"Request timed out after {self.timeout_s:g}s (simulated model '{self.model_name}')",
                model=self.model_name,
            ), self.timeout_s
        return None, 0.0

    def pieces(self) -> list[Piece]:
        """The text split into word-sized chunks."""
        return [Piece(p, len(p) / 4.0) for p in _PIECE.findall(self.text)]

    @property
    def per_token_s(self) -> float:
        """Seconds per streamed token so that the stream ends exactly at ``latency_s``."""
        pieces = self.pieces()
        rest = sum(p.tokens for p in pieces[1:])
        return (self.latency_s - self.ttft_s) / rest if rest > 0 else 0.0

    def tool_call_args(self) -> list[tuple[ToolCall | InvalidToolCall, str]]:
        """Every tool call (valid or not) with its arguments as JSON text, for streaming."""
        out: list[tuple[ToolCall | InvalidToolCall, str]] = [
            (tc, json.dumps(tc["args"])) for tc in self.tool_calls
        ]
        out.extend((tc, tc.get("args") or "") for tc in self.invalid_tool_calls)
        return out


def _forced_tool(tools: Sequence[Mapping[str, Any]], tool_choice: Any) -> str | None:
    if not tools or tool_choice in (None, "auto", "none"):
        return None
    if isinstance(tool_choice, Mapping):
        return str(tool_choice.get("function", {}).get("name") or _tool_name(tools[0]))
    return _tool_name(tools[0])  # "required": the first tool


def _tool_name(tool: Mapping[str, Any]) -> str:
    return str(tool.get("function", tool).get("name", "tool"))


def _tool_schema(tools: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    for tool in tools:
        if _tool_name(tool) == name:
            return dict(tool.get("function", tool).get("parameters") or {})
    return {}


def _cut(text: str, stop: Sequence[str] | None, limit: int) -> tuple[str, bool]:
    for word in stop or ():
        at = text.find(word)
        if at >= 0:
            text = text[:at]
    if estimate_tokens(text) > limit:
        return text[: limit * 4], True
    return text, False


def simulate(
    messages: Sequence[BaseMessage],
    *,
    profile: SimulatedProfile,
    seed: int = 0,
    oracle: Oracle | None = None,
    tools: Sequence[Mapping[str, Any]] = (),
    tool_choice: Any = None,
    stop: Sequence[str] | None = None,
    max_tokens: int | None = None,
    timeout: float | None = None,
) -> SimulatedCall:
    """Decide one call's outcome for ``profile`` on ``messages``."""
    digest = input_digest(messages, seed, tools, tool_choice)
    draws = Draws(digest, profile.name)
    model = profile.reported_model
    input_tokens = message_tokens(messages)
    if tools:
        input_tokens += estimate_tokens(json.dumps(list(tools), default=str))
    base = SimulatedCall(model_name=model, profile=profile.name, input_tokens=input_tokens, timeout_s=timeout)
    if input_tokens > profile.context_window:
        error = SimulatedContextOverflowError(
            f"Error code: 400 - prompt is too long: {input_tokens} tokens > {profile.context_window} maximum "
            f"(simulated model '{model}')",
            model=model,
        )
        return replace(base, error=error, error_after_s=0.05)
    kind = pick_error(profile.errors, draws)
    if kind is not None:
        timing = sample_timing(profile.latency, draws, input_tokens, 1)
        after = _ERROR_DELAY_S.get(kind, timing.ttft_s)
        return replace(base, error=error_for(kind, model), error_after_s=after, output_tokens=0)

    limit = min(profile.output.max_tokens, max_tokens or profile.output.max_tokens)
    text, finish, refusal = "", "stop", False
    tool_calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    forced = _forced_tool(tools, tool_choice)
    if draws.shared("refusal") < profile.refusal_rate:
        text, finish, refusal = REFUSAL_TEXT, "refusal", True
    else:
        task = (oracle or oracles).task_for(messages, tools) or FreeText()
        rendered = render(task, profile, draws)
        tool_name = forced
        chosen_args: dict[str, Any] | None = None
        if tool_name is None and tools and tool_choice != "none":
            if rendered.payload is not None:  # an oracle's structured task answered through the tool
                tool_name = _tool_name(tools[0])
            elif isinstance(task, FreeText):
                chosen = choose_tool(messages, tools, profile, draws)
                if chosen is not None:
                    tool_name, chosen_args = chosen
                else:
                    opening = tool_answer(messages)
                    if opening is not None:
                        rendered = Rendered(text=f"{opening} {rendered.text}")
        if tool_name is None:
            text, cut = _cut(rendered.text, stop, limit)
            finish = "length" if cut else "stop"
        else:
            if chosen_args is not None:
                args_text = json.dumps(chosen_args)
            elif rendered.args is not None:
                args_text = rendered.args
            else:
                instance = plausible_instance(_tool_schema(tools, tool_name), user_text(messages), draws)
                args_text = json.dumps(instance)
            args_text, cut = _cut(args_text, None, limit)
            finish = "length" if cut else "tool_calls"
            call_id = "call_" + digest.hex()[:24]
            try:
                args = json.loads(args_text)
                if not isinstance(args, dict):
                    raise ValueError("tool arguments must be a JSON object")
                tool_calls.append(ToolCall(name=tool_name, args=args, id=call_id, type="tool_call"))
            except ValueError as exc:
                invalid.append(
                    InvalidToolCall(
                        name=tool_name, args=args_text, id=call_id, error=str(exc), type="invalid_tool_call"
                    )
                )
    args_tokens = sum(estimate_tokens(json.dumps(tc["args"])) for tc in tool_calls)
    args_tokens += sum(estimate_tokens(tc.get("args") or "") for tc in invalid)
    output_tokens = (estimate_tokens(text) if text else 0) + args_tokens
    timing = sample_timing(profile.latency, draws, input_tokens, max(output_tokens, 1))
    return replace(
        base,
        text=text,
        tool_calls=tuple(tool_calls),
        invalid_tool_calls=tuple(invalid),
        finish_reason=finish,
        refusal=refusal,
        output_tokens=output_tokens,
        ttft_s=timing.ttft_s,
        latency_s=timing.total_s,
    )
