"""The value an agent produced, read from a graph state: segments declared with ``from: <agent>.<field>``.

Looked up in this order (the first found wins):

1. **The agent's messages** (``MessagesState`` apps): AI messages named after the agent —
   ``create_agent(name=…)`` names every message it produces; a hand-written node names its reply
   (``AIMessage(…, name="classifier")`` or ``reply.name = "classifier"``). Newest first, the field is read
   from the message's tool-call arguments (a structured output through tool calling), then from its
   content parsed as JSON (a JSON reply, with or without a code fence). If none of them holds it, a
   ``structured_response`` in the state (``create_agent(response_format=…)``) is read when the agent has
   spoken.
2. **A key of the node's state update**: the state's own key (``classifier`` returned ``{"category": …}``).

Values must be text, numbers or booleans (a list, a dict or an empty text is no segment value).
"""

from __future__ import annotations

__all__ = ["agent_output_value", "with_agent_outputs"]

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from routing_agent.graph.resolution import router_for
from routing_agent.graph.units import read_field

_MAX_JSON_CHARS = 100_000


def _dig(holder: Any, path: Sequence[str]) -> Any:
    for key in path:
        if holder is None:
            return None
        if isinstance(holder, Mapping):
            holder = holder.get(key)
        elif hasattr(holder, "model_dump") or hasattr(holder, "__dataclass_fields__"):
            holder = getattr(holder, key, None)
        else:
            return None
    return holder


def _usable(value: Any) -> bool:
    if isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and bool(value.strip())


def _json(content: Any) -> Any:
    if isinstance(content, list):  # content blocks: the text ones, joined
        content = "".join(
            b if isinstance(b, str) else str(b.get("text", "")) for b in content if isinstance(b, str | dict)
        )
    if not isinstance(content, str) or len(content) > _MAX_JSON_CHARS:
        return None
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    if not text.startswith("{"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _from_messages(messages: Iterable[Any], agent: str, path: Sequence[str]) -> tuple[Any, bool]:
    """(value, whether the agent has any message)."""
    spoke = False
    for message in reversed(list(messages)):
        if getattr(message, "type", None) != "ai" or getattr(message, "name", None) != agent:
            continue
        spoke = True
        for call in reversed(getattr(message, "tool_calls", None) or []):
            value = _dig(call.get("args") if isinstance(call, Mapping) else None, path)
            if _usable(value):
                return value, spoke
        value = _dig(_json(getattr(message, "content", None)), path)
        if _usable(value):
            return value, spoke
    return None, spoke


def agent_output_value(state: Any, agent: str, path: Sequence[str]) -> Any:
    """The value at ``path`` that ``agent`` produced, as ``state`` holds it now; None when not found."""
    messages = read_field(state, "messages")
    if isinstance(messages, list | tuple):
        value, spoke = _from_messages(messages, agent, path)
        if _usable(value):
            return value
        if spoke:
            value = _dig(read_field(state, "structured_response"), path)
            if _usable(value):
                return value
    value = _dig({path[0]: read_field(state, path[0])}, path)
    return value if _usable(value) else None


def with_agent_outputs(
    state: Any, routing: Mapping[str, Any], lookup: Callable[[str], Any]
) -> Callable[[str], Any]:
    """``lookup`` that reads the segments the unit's segment-level ships target from the agents' outputs
    (``from:``) first: a ship to ``category=easy`` follows the classifier's answer in a ``MessagesState`` app.
    """
    sources: dict[str, Any] = {}
    for experiment, record in routing.items():
        node = router_for(experiment) if isinstance(record, Mapping) and record.get("targeted") else None
        spec = next((s for s in node.config.experiments if s.id == experiment), None) if node else None
        if spec is not None:
            sources.update(spec.segment_sources)
    if not sources:
        return lookup

    def read(name: str) -> Any:
        source = sources.get(name)
        value = agent_output_value(state, source.agent, source.path) if source is not None else None
        return lookup(name) if value is None else value

    return read
