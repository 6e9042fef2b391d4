"""Small span helpers of the callback handler: assignment attributes, names, errors."""

from __future__ import annotations

__all__ = ["assignment_attributes", "is_control_flow", "mark_error", "serialized_name"]

from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import Span, Status, StatusCode

from routing_agent.telemetry import semconv as sc
from routing_agent.telemetry.calls import error_type


def assignment_attributes(record: Mapping[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {sc.RA_EXPERIMENT: str(record["experiment"])}
    for key, name in (
        (sc.RA_VARIANT, "variant"),
        (sc.RA_UNIT, "unit"),
        (sc.RA_UNIT_ID, "unit_id"),
        (sc.RA_REASON, "reason"),
    ):
        value = record.get(name)
        if value is not None:
            attrs[key] = str(value)
    return attrs


def serialized_name(serialized: Mapping[str, Any] | None) -> str | None:
    if not serialized:
        return None
    name = serialized.get("name")
    if name:
        return str(name)
    ids = serialized.get("id")
    return str(ids[-1]) if isinstance(ids, list) and ids else None


def is_control_flow(error: BaseException) -> bool:
    """LangGraph interrupts and parent commands travel as exceptions; they are not failures."""
    try:
        from langgraph.errors import GraphBubbleUp
    except ImportError:  # pragma: no cover - langgraph is a core dependency
        return False
    return isinstance(error, GraphBubbleUp)


def mark_error(span: Span, error: BaseException) -> None:
    span.set_attribute(sc.ERROR_TYPE, error_type(error))
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:512]))
    span.record_exception(error)
