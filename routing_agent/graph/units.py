"""Where a unit id comes from: a state key, LangGraph's thread id, or a field of the run context.

An experiment's YAML declares it (``unit_source: state | thread_id | context``; ``unit_key`` names the state
key or the context field, by default ``session_id`` / ``user_id`` / ``request_id`` by ``unit``):

* ``state`` — ``state[unit_key]`` (a mapping key or an attribute of a pydantic/dataclass state);
* ``thread_id`` — ``config["configurable"]["thread_id"]``, the checkpointer's session identity;
* ``context`` — ``Runtime.context`` (``graph.invoke(..., context=Ctx(user_id="u1"))`` with
  ``context_schema=Ctx``): a dataclass, pydantic model or mapping field.

The config is the node's (or, outside a node call, the current run's ``get_config()``), so subgraphs,
``Send`` branches and sub-agents invoked from tools see the same thread id and context as their parent.
"""

from __future__ import annotations

__all__ = [
    "MAX_UNIT_ID_CHARS",
    "attribute_lookup",
    "read_field",
    "segment_text",
    "unit_source_value",
    "unit_text",
]

import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.runnables import RunnableConfig

from routing_agent.config.spec import ExperimentSpec


def read_field(holder: Any, key: str) -> Any:
    """``holder[key]`` for a mapping, else ``holder.key`` (pydantic, dataclass), else None."""
    if holder is None:
        return None
    if isinstance(holder, Mapping):
        return holder.get(key)
    return getattr(holder, key, None)


def current_config(config: RunnableConfig | None) -> RunnableConfig | None:
    """``config``, else the config of the LangGraph/LangChain run this code runs in, else None."""
    if config is not None:
        return config
    try:
        from langgraph.config import get_config

        return get_config()
    except RuntimeError:  # outside a runnable
        return None


def run_context(config: RunnableConfig | None) -> Any:
    """The run context (``Runtime.context``) carried by ``config``, or None."""
    if config is None:
        return None
    runtime = (config.get("configurable") or {}).get("__pregel_runtime")
    return getattr(runtime, "context", None)


def unit_source_value(
    spec: ExperimentSpec, state: Any, config: RunnableConfig | None, key: str | None = None
) -> Any:
    """The raw unit id for ``spec`` from where its YAML says it lives (None when absent).

    ``key`` overrides the state key / context field (the routing node's ``unit_key=``)."""
    key = key or spec.state_key
    if spec.unit_source == "thread_id":
        config = current_config(config)
        return (config.get("configurable") or {}).get("thread_id") if config is not None else None
    if spec.unit_source == "context":
        return read_field(run_context(current_config(config)), key)
    return read_field(state, key)


def attribute_lookup(state: Any, config: RunnableConfig | None) -> Callable[[str], Any]:
    """``lookup(name)``: a targeting attribute from the state, else the run context, else ``configurable``."""
    config = current_config(config)

    def lookup(name: str) -> Any:
        value = read_field(state, name)
        if value is None and config is not None:
            value = read_field(run_context(config), name)
            if value is None:
                value = (config.get("configurable") or {}).get(name)
        return value if value is None or isinstance(value, str | int | float | bool) else str(value)

    return lookup


MAX_UNIT_ID_CHARS = 4096
"""Longest unit id routed; longer ones (a prompt in ``session_id`` by mistake?) get the default model."""


def unit_text(value: Any, limit: int = MAX_UNIT_ID_CHARS) -> tuple[str | None, str | None]:
    """``(text, None)`` for a usable id or segment value, else ``(None, why)`` (the why never quotes it)."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None, "is bytes that are not UTF-8"
    if isinstance(value, bool) or not isinstance(value, str | int | uuid.UUID):
        return None, f"is a {type(value).__name__}, not a string or an integer"
    if isinstance(value, int) and value.bit_length() > limit * 4:  # str() of 10**5000 raises
        return None, f"is an integer of more than {limit} digits"
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return None, f"is {len(text)} characters long (at most {limit})"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return None, "is not valid Unicode text (a lone surrogate)"
    return text, None


def segment_text(value: Any) -> str | None:
    """A segment value as text: text, numbers and booleans as their ``str()``; anything else None."""
    if isinstance(value, bool) or (isinstance(value, float) and math.isfinite(value)):
        value = str(value)
    return unit_text(value, 256)[0] if value is not None else None
