"""Opt-in capture of prompt and response content (privacy: off unless the user turns it on).

Content is recorded only when ``capture_content=True`` is passed, or the YAML sets
``telemetry.capture_content: true``, or ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``. It is
then written as ``gen_ai.input.messages`` / ``gen_ai.output.messages``: JSON strings following the GenAI
input/output-messages schemas (``role`` + ``parts`` of ``text``, ``tool_call``, ``tool_call_response``).
Nothing else of the request is ever copied: no invocation params, no headers, no API keys.
"""

from __future__ import annotations

__all__ = ["capture_enabled", "input_messages_json", "output_messages_json"]

import json
import os
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from routing_agent.telemetry.semconv import CAPTURE_CONTENT_ENV

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool"}
_TRUE = frozenset({"1", "true", "yes", "on"})


def capture_enabled(explicit: bool | None = None, config_value: bool | None = None) -> bool:
    """Whether to record content: an explicit argument wins, then the env var, then the YAML, else False."""
    if explicit is not None:
        return explicit
    env = os.environ.get(CAPTURE_CONTENT_ENV)
    if env is not None and env.strip():
        return env.strip().lower() in _TRUE
    return bool(config_value)


def _text_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    parts: list[dict[str, Any]] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, str):
                parts.append({"type": "text", "content": block})
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append({"type": "text", "content": str(block.get("text", ""))})
            elif isinstance(block, dict):
                parts.append({"type": str(block.get("type", "unknown"))})  # media etc.: type only
    return parts


def _message(message: BaseMessage) -> dict[str, Any]:
    parts = _text_parts(message.content)
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            parts.append(
                {"type": "tool_call", "id": call.get("id"), "name": call["name"], "arguments": call["args"]}
            )
    if isinstance(message, ToolMessage):
        parts = [{"type": "tool_call_response", "id": message.tool_call_id, "response": message.content}]
    return {"role": _ROLES.get(message.type, message.type), "parts": parts}


def input_messages_json(messages: Sequence[Sequence[BaseMessage]]) -> str:
    """``gen_ai.input.messages`` for the first (only) prompt of a chat-model run."""
    first = messages[0] if messages else []
    return json.dumps([_message(m) for m in first], default=str, ensure_ascii=False)


def output_messages_json(generations: Sequence[Any]) -> str:
    """``gen_ai.output.messages``: one message per generation (choice)."""
    out: list[dict[str, Any]] = []
    for gen in generations:
        message = getattr(gen, "message", None)
        if isinstance(message, BaseMessage):
            item = _message(message)
            reason = message.response_metadata.get("finish_reason") or message.response_metadata.get(
                "stop_reason"
            )
        else:
            item = {"role": "assistant", "parts": _text_parts(getattr(gen, "text", ""))}
            reason = None
        info = getattr(gen, "generation_info", None) or {}
        item["finish_reason"] = str(reason or info.get("finish_reason") or "stop")
        out.append(item)
    return json.dumps(out, default=str, ensure_ascii=False)
