"""How an answer hands over the sources it cites, so telemetry can record them as a span attribute.

The convention (first match wins) for an ``AIMessage`` returned by a chat model:

1. ``message.response_metadata["citations"]`` — what the simulated provider and custom models set;
2. ``message.additional_kwargs["citations"]`` — what e.g. ``langchain-perplexity`` sets;
3. a ``citations`` field in a tool call's arguments — structured output through tool calling
   (``llm.with_structured_output(Answer)`` where ``Answer`` has ``citations: list[str]``);
4. ``citations`` lists inside content blocks — Anthropic's citations API;
5. a JSON object in the message text with a top-level ``citations`` list (JSON-mode structured output).

For a LangGraph node, a ``citations`` key in the node's returned state update is recorded on its agent span.

Each citation is a string (a source id, URL or document name) or a mapping, from which the first
of ``id``, ``source_id``, ``source``, ``url``, ``uri``, ``document_title``, ``title`` is taken. The recorded
value is the *set*: unique, sorted, as the string-array attribute ``routing_agent.citations``.
"""

from __future__ import annotations

__all__ = ["CITATIONS_KEY", "citation_set", "extract_citations", "with_citations"]

import json
from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

CITATIONS_KEY = "citations"
"""The key a workflow uses in ``response_metadata``, ``additional_kwargs``, tool-call args or node output."""

_SEQUENCES = (list, tuple)
_ID_FIELDS = ("id", "source_id", "source", "url", "uri", "document_title", "title")


def _one(item: Any) -> str | None:
    if isinstance(item, str):
        return item.strip() or None
    if isinstance(item, int | float) and not isinstance(item, bool):
        return str(item)
    if isinstance(item, Mapping):
        for name in _ID_FIELDS:
            value = item.get(name)
            if value is not None and str(value).strip():
                return str(value).strip()
    return None


def citation_set(items: Any) -> tuple[str, ...] | None:
    """The sorted unique citation ids in ``items`` (a list of str/mappings); None if not a list."""
    if type(items) in _SEQUENCES:  # the usual case, without three ABC checks
        pass
    elif isinstance(items, str | bytes) or not isinstance(items, Iterable) or isinstance(items, Mapping):
        return None
    found = {cid for cid in (_one(i) for i in items) if cid is not None}
    return tuple(sorted(found))


def _from_content(content: Any) -> tuple[str, ...] | None:
    if isinstance(content, list):
        nested: list[Any] = []
        seen = False
        for block in content:
            if isinstance(block, Mapping) and isinstance(block.get(CITATIONS_KEY), list):
                nested.extend(block[CITATIONS_KEY])
                seen = True
        return citation_set(nested) if seen else None
    if isinstance(content, str):
        text = content.strip()
        if text.startswith("{") and f'"{CITATIONS_KEY}"' in text:
            try:
                data = json.loads(text)
            except ValueError:
                return None
            if isinstance(data, dict):
                return citation_set(data.get(CITATIONS_KEY))
    return None


def extract_citations(message: BaseMessage | None) -> tuple[str, ...] | None:
    """The citation set an answer carries by the convention above, or None when it carries none."""
    if message is None:
        return None
    for holder in (message.response_metadata, message.additional_kwargs):
        if CITATIONS_KEY in holder:
            found = citation_set(holder[CITATIONS_KEY])
            if found is not None:
                return found
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            args = call.get("args")
            if isinstance(args, Mapping) and CITATIONS_KEY in args:
                found = citation_set(args[CITATIONS_KEY])
                if found is not None:
                    return found
    return _from_content(message.content)


def with_citations(message: AIMessage, citations: Iterable[Any]) -> AIMessage:
    """A copy of ``message`` carrying ``citations`` in ``response_metadata`` (for custom chat models)."""
    metadata = dict(message.response_metadata)
    metadata[CITATIONS_KEY] = list(citations)
    return message.model_copy(update={"response_metadata": metadata})
