"""What one chat-model response says about itself: tokens, model, finish reasons, refusal, durations.

**Reported durations (time-scaled runs).** A chat model that runs in scaled or virtual time (the simulated
provider; a replay harness) may report the durations a real call would have had, in its message's
``response_metadata``:

* ``simulated_latency_s`` — the whole call, seconds;
* ``simulated_ttft_s`` — request issued → first streamed chunk carrying content, seconds.

When present, telemetry records these instead of the wall clock in metrics, observations and the
``gen_ai.response.time_to_first_chunk`` / ``routing_agent.latency_s`` attributes, and sets
``routing_agent.duration_source = "reported"``. Span start/end timestamps always stay wall-clock, so a trace's
nesting is never distorted. TTFT is recorded only for calls that actually streamed (at least one chunk
carrying content reached ``on_llm_new_token``), whichever source gives its value.

**Time to first token (TTFT) = the first chunk that carries content** (``carries_content``): text, a
tool-call delta or a reasoning delta. Chunks with nothing the user could see — the empty ``role`` chunk an
OpenAI-compatible server sends at once, a usage-only or ``finish_reason``-only chunk, LangChain's closing
empty chunk — are not the first token, so a server that acknowledges at once and thinks for 600 ms has a
TTFT of 600 ms, not 0.
"""

from __future__ import annotations

__all__ = [
    "REPORTED_LATENCY_KEY",
    "REPORTED_TTFT_KEY",
    "ResponseInfo",
    "carries_content",
    "read_response",
]

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import LLMResult

from routing_agent.telemetry.citations import extract_citations
from routing_agent.telemetry.pricing import TokenUsage

REPORTED_LATENCY_KEY = "simulated_latency_s"
"""``response_metadata`` key: the model-reported call latency in seconds (overrides the wall clock)."""
REPORTED_TTFT_KEY = "simulated_ttft_s"
"""``response_metadata`` key: the model-reported time to first chunk in seconds (streamed calls only)."""

_REFUSAL_REASONS = frozenset({"refusal", "content_filter"})
_BLOCK_TEXT_KEYS = ("text", "thinking", "reasoning", "partial_json", "args", "refusal")
_CONTENT_BLOCK_TYPES = frozenset(
    {"tool_use", "server_tool_use", "tool_call", "tool_call_chunk", "image", "audio", "file"}
)
_DELTA_KWARGS = ("reasoning_content", "reasoning", "tool_calls", "function_call", "refusal")


def _blocks_carry_content(blocks: Any) -> bool:
    for block in blocks:
        if isinstance(block, str):
            if block:
                return True
        elif isinstance(block, Mapping):
            if block.get("type") in _CONTENT_BLOCK_TYPES:
                return True
            if any(block.get(key) for key in _BLOCK_TEXT_KEYS):
                return True
    return False


def carries_content(token: Any, chunk: Any = None) -> bool:
    """Whether a streamed chunk carries content: text, a tool-call delta or a reasoning delta.

    ``token`` and ``chunk`` are what LangChain passes to ``on_llm_new_token`` (the chunk's content and the
    ``ChatGenerationChunk``). An empty role chunk, a usage-only chunk or a finish chunk carries none.
    """
    if isinstance(token, str):
        if token:
            return True
    elif isinstance(token, list) and _blocks_carry_content(token):
        return True
    message = getattr(chunk, "message", None)
    if message is None:
        return bool(getattr(chunk, "text", None))
    if getattr(message, "tool_call_chunks", None):
        return True
    content = message.content
    if isinstance(content, str):
        if content:
            return True
    elif _blocks_carry_content(content):
        return True
    extra = message.additional_kwargs
    return bool(extra) and any(extra.get(key) for key in _DELTA_KWARGS)


@dataclass(slots=True)  # not frozen: built once per call, and a frozen __init__ costs twice as much
class ResponseInfo:
    """Facts read from an ``LLMResult``; None where the response did not say (read-only by convention)."""

    message: BaseMessage | None
    usage: TokenUsage | None
    reasoning_tokens: int | None
    response_model: str | None
    response_id: str | None
    finish_reasons: tuple[str, ...]
    refusal: bool
    citations: tuple[str, ...] | None
    reported_latency_s: float | None
    reported_ttft_s: float | None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


def _usage(
    message: BaseMessage | None, llm_output: Mapping[str, Any] | None
) -> tuple[TokenUsage | None, int]:
    meta = getattr(message, "usage_metadata", None) if message is not None else None
    if meta:
        details = meta.get("input_token_details") or {}
        out_details = meta.get("output_token_details") or {}
        usage = TokenUsage(
            input=int(meta.get("input_tokens") or 0),
            output=int(meta.get("output_tokens") or 0),
            cache_read=int(details.get("cache_read") or 0),
            cache_write=int(details.get("cache_creation") or 0),
        )
        return usage, int(out_details.get("reasoning") or 0)
    raw = (llm_output or {}).get("token_usage") or (llm_output or {}).get("usage")
    if isinstance(raw, Mapping):
        inp = raw.get("prompt_tokens", raw.get("input_tokens"))
        out = raw.get("completion_tokens", raw.get("output_tokens"))
        if isinstance(inp, int) or isinstance(out, int):
            return TokenUsage(input=int(inp or 0), output=int(out or 0)), 0
    return None, 0


def read_response(response: LLMResult) -> ResponseInfo:
    """Read an ``LLMResult`` of one chat-model run (the first prompt's generations)."""
    generations = response.generations[0] if response.generations else []
    first = generations[0] if generations else None
    message = getattr(first, "message", None)
    if not isinstance(message, BaseMessage):
        message = None
    meta: Mapping[str, Any] = message.response_metadata if message is not None else {}
    llm_output = response.llm_output or {}
    usage, reasoning = _usage(message, llm_output)

    reasons: list[str] = []
    refusal = False
    for gen in generations:
        gen_meta = getattr(getattr(gen, "message", None), "response_metadata", None) or {}
        reason = gen_meta.get("finish_reason") or gen_meta.get("stop_reason")
        if not reason and gen.generation_info:
            reason = gen.generation_info.get("finish_reason")
        if reason:
            reason = str(reason)
            reasons.append(reason)
            refusal = refusal or reason in _REFUSAL_REASONS
    if meta.get("refusal") or (
        message is not None and message.additional_kwargs.get("refusal") and isinstance(message, AIMessage)
    ):
        refusal = True
    model = meta.get("model_name") or meta.get("model") or llm_output.get("model_name")
    response_id = getattr(message, "id", None) if meta.get("id") is None else meta.get("id")
    if response_id:
        response_id = str(response_id)
        if response_id.startswith(("run-", "lc_run-")):
            response_id = None
    latency = meta.get(REPORTED_LATENCY_KEY)
    ttft = meta.get(REPORTED_TTFT_KEY)
    return ResponseInfo(
        message=message,
        usage=usage,
        reasoning_tokens=reasoning or None,
        response_model=str(model) if model else None,
        response_id=response_id or None,
        finish_reasons=tuple(reasons),
        refusal=refusal,
        citations=extract_citations(message),
        reported_latency_s=None if latency is None else _number(latency),
        reported_ttft_s=None if ttft is None else _number(ttft),
    )
