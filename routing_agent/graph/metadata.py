"""Keys of the LangChain run metadata that ``routed_model`` attaches to the chat model it returns.

LangChain merges a chat model's own ``metadata`` into every callback of its calls, so the telemetry handler
(``routing_agent.telemetry``) reads experiment, variant and unit from ``on_chat_model_start(metadata=...)``
without parsing graph state. Keys are flat strings so they survive every tracer that copies metadata.
"""

from __future__ import annotations

__all__ = [
    "AGENT",
    "EXPERIMENT",
    "MODEL_ID",
    "REASON",
    "SEGMENTS",
    "UNIT",
    "UNIT_ID",
    "VARIANT",
]

EXPERIMENT = "routing_agent.experiment"
"""Experiment id, or absent when no experiment applies to this agent for this unit."""
VARIANT = "routing_agent.variant"
"""Variant name the unit is in (absent when not enrolled)."""
UNIT = "routing_agent.unit"
"""Unit kind: session | user | request."""
UNIT_ID = "routing_agent.unit_id"
"""The unit's id (session id, user id or request id)."""
REASON = "routing_agent.reason"
"""Why the unit got this variant: a ``routing_agent.assignment.types.Reason`` value."""
AGENT = "routing_agent.agent"
"""The agent (LangGraph node) the model was resolved for."""
MODEL_ID = "routing_agent.model_id"
"""The model id from the YAML, e.g. ``simulated:fast-cheap`` or ``openai:gpt-5``."""
SEGMENTS = "routing_agent.segments"
"""Segment values of the unit (dict of str to str), for per-segment analysis."""
