"""Provider-independent refusal detection for chat-model responses.

Providers report a refusal as a successful response: OpenAI in a ``refusal`` field, Anthropic with
``stop_reason: "refusal"``, Gemini with a blocking finish reason, the simulator with
``finish_reason: "refusal"``. LangChain's standard content blocks turn each into a ``refusal`` block;
``is_refusal`` checks those blocks and the raw fields, so telemetry and workflows need no provider code.
"""

from __future__ import annotations

__all__ = ["is_refusal"]

from langchain_core.messages import BaseMessage

_REFUSAL_REASONS = frozenset({"refusal", "content_filter"})


def is_refusal(message: BaseMessage) -> bool:
    """Whether ``message`` is a model refusal (by standard content blocks or the provider's fields)."""
    metadata = message.response_metadata or {}
    if metadata.get("finish_reason") in _REFUSAL_REASONS or metadata.get("stop_reason") == "refusal":
        return True
    if message.additional_kwargs.get("refusal"):
        return True
    try:
        blocks = message.content_blocks
    except Exception:  # a provider translator that cannot read this message: fall back to the fields above
        return False
    return any(block.get("type") == "refusal" for block in blocks)
