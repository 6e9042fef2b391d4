"""The graph-state channel the routing node writes, and the reducer of assignments.

One mechanism for every state schema: the ``routing`` channel. Either add it to any state —
``routing: Routing`` (TypedDict, pydantic ``BaseModel``, dataclass, ``MessagesState``, either
``AgentState``) — or, for TypedDict states, mix in ``RoutingState``
(``class State(RoutingState, MessagesState)``, in either order:
both are ``typing_extensions`` TypedDicts, so no metaclass conflict).

``state["routing"]`` maps experiment id → ``Assignment``. The reducer keeps the first decision for a unit:
re-entering the routing node, a ``Send`` fan-out branch or a resume from a checkpointer can never flip a
unit's variant (the experiment's *live* state still wins at each model call: see ``graph.resolution``). A new
unit id (e.g. a thread reused for another session) replaces the old record. ``state["routing_defaults"]`` (in
``RoutingState``, optional elsewhere) holds the YAML's per-agent default models.

Whatever the caller put in ``state["routing"]`` is read through ``clean_routing``: a value that is not a
mapping, or a record of the wrong shape (not a mapping, a variant or model that is not text, a scope that is
not a list of names), is ignored — that experiment is decided afresh — instead of raising into the graph.
"""

from __future__ import annotations

__all__ = [
    "DEFAULTS_KEY",
    "ROUTING_KEY",
    "Routing",
    "RoutingState",
    "agent_defaults",
    "clean_routing",
    "keep_first_assignment",
]

from collections.abc import Mapping
from typing import Annotated, Any

from typing_extensions import TypedDict

from routing_agent.assignment.types import Assignment, ModelChoice
from routing_agent.config.spec import ExperimentsConfig

ROUTING_KEY = "routing"
DEFAULTS_KEY = "routing_defaults"


def agent_defaults(config: ExperimentsConfig) -> dict[str, ModelChoice]:
    """The YAML's per-agent default models (key ``"*"`` is ``default_model``), as plain state data."""
    defaults: dict[str, ModelChoice] = {
        agent: {"model": spec.model, "params": dict(spec.params)} for agent, spec in config.agents.items()
    }
    if config.default_model is not None:
        defaults["*"] = {"model": config.default_model.model, "params": dict(config.default_model.params)}
    return defaults


def _text_or_none(value: Any) -> bool:
    return value is None or type(value) is str


def _is_record(value: Any) -> bool:
    """Whether ``value`` has the shape of an ``Assignment`` (the fields routing reads)."""
    if not isinstance(value, Mapping):
        return False
    try:
        scope = value.get("scope") or []
        overrides = value.get("agent_models") or {}
        params = value.get("params") or {}
        return (
            _text_or_none(value.get("variant"))
            and _text_or_none(value.get("model"))
            and _text_or_none(value.get("unit_id"))
            and isinstance(scope, list | tuple)
            and all(type(agent) is str for agent in scope)
            and isinstance(overrides, Mapping)
            and all(type(k) is str and type(v) is str for k, v in overrides.items())
            and isinstance(params, Mapping)
        )
    except Exception:  # a hostile mapping (raising __eq__, __getitem__ …)
        return False


def clean_routing(value: Any) -> dict[str, Assignment]:
    """The well-formed records of a ``routing`` value; ``{}`` for anything that is not a mapping."""
    if not isinstance(value, Mapping):
        return {}
    try:
        items = list(value.items())
    except Exception:
        return {}
    return {key: record for key, record in items if type(key) is str and _is_record(record)}


def keep_first_assignment(
    current: dict[str, Assignment] | None, update: dict[str, Assignment] | None
) -> dict[str, Assignment]:
    """Merge ``update`` into ``current`` per experiment, keeping the existing record for the same unit."""
    current, update = clean_routing(current), clean_routing(update)
    if not current:
        return update
    if not update:
        return current
    merged = dict(current)
    for experiment, record in update.items():
        existing = merged.get(experiment)
        if existing is None or existing.get("unit_id") != record.get("unit_id"):
            merged[experiment] = record
    return merged


Routing = Annotated[dict[str, Assignment], keep_first_assignment]
"""The routing channel's type: ``routing: Routing`` in any state (pydantic/dataclass: default ``{}``)."""


class RoutingState(TypedDict, total=False):
    """Mix into a TypedDict state: ``class State(RoutingState, MessagesState): session_id: str``."""

    routing: Routing
    routing_defaults: dict[str, ModelChoice]
    """Each agent's model when no experiment routes it (from the YAML's ``agents`` / ``default_model``)."""
