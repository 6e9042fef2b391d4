"""What one chat-model response says about itself: tokens, model, finish reasons, refusal, durations.

**Reported durations (time-scaled runs).** A chat model that runs in scaled or virtual time (the simulated
provider; a replay harness) may report the durations a real call would have had, in its message's
``response_metadata``:

* ``simulated_latency_s`` — the whole call, seconds;
* ``simulated_ttft_s`` — request issued → first streamed chunk, seconds.

When present, telemetry records these instead of the wall clock in metrics, observations and the
``gen_ai.response.time_to_first_chunk`` / ``routing_agent.latency_s`` attributes, and sets
``routing_agent.duration_source = "reported"``. Span start/end timestamps always stay wall-clock, so a trace's
nesting is never distorted. TTFT is recorded only for calls that actually streamed (at least one chunk
reached ``on_llm_new_token``), whichever source gives its value.
"""

from __future__ import annotations

__all__ = [
    "REPORTED_LATENCY_KEY",
    "REPORTED_TTFT_KEY",
    "ResponseInfo",
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


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """Facts read from an ``LLMResult``; None where the response did not say."""

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
    if meta.get("refusal") or (isinstance(message, AIMessage) and message.additional_kwargs.get("refusal")):
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
