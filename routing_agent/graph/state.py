"""The graph-state key the routing node writes, and its reducer.

``state["routing"]`` maps experiment id → ``Assignment``. The reducer keeps the first decision for a unit:
re-entering the routing node, a ``Send`` fan-out branch or a resume from a checkpointer can never flip a
unit's variant. A new unit id (e.g. a thread reused for another session) replaces the old record.
"""

from __future__ import annotations

__all__ = ["ROUTING_KEY", "RoutingState", "keep_first_assignment"]

from typing import Annotated, TypedDict

from routing_agent.assignment.records import Assignment

ROUTING_KEY = "routing"


def keep_first_assignment(
    current: dict[str, Assignment] | None, update: dict[str, Assignment] | None
) -> dict[str, Assignment]:
    """Merge ``update`` into ``current`` per experiment, keeping the existing record for the same unit."""
    if not current:
        return dict(update or {})
    if not update:
        return current
    merged = dict(current)
    for experiment, record in update.items():
        existing = merged.get(experiment)
        if existing is None or existing.get("unit_id") != record.get("unit_id"):
            merged[experiment] = record
    return merged


class RoutingState(TypedDict, total=False):
    """Mix into your graph's state: ``class State(RoutingState): session_id: str; ...``."""

    routing: Annotated[dict[str, Assignment], keep_first_assignment]
