"""Values the assignment layer hands out: a unit's assignment and the reason for it (the live experiment
state a store persists is ``routing_agent.stores.assignments.state.ExperimentState``)."""

from __future__ import annotations

__all__ = ["NOT_RANDOMIZED", "Assignment", "ModelChoice", "Reason", "TargetedChoice"]

from enum import StrEnum
from typing import Any, NotRequired

from typing_extensions import TypedDict  # pydantic states need it on Python < 3.12


class Reason(StrEnum):
    """Why a unit got the variant it got. Recorded on every assignment, span and observation."""

    HASHED = "hashed"  # first time seen: deterministic hash, now stored
    STICKY = "sticky"  # the store already held this unit's variant
    NOT_ENROLLED = "not_enrolled"  # outside coverage or namespace range: the agent's default model
    NOT_STARTED = "not_started"  # before the experiment's start
    ENDED = "ended"  # after the experiment's end
    PAUSED = "paused"  # paused and the unit had no stored variant: default model
    STOPPED = "stopped"  # stopped: default model for everyone
    ROLLED_BACK = "rolled_back"  # rolled back: everyone on control
    SHIPPED = "shipped"  # shipped: everyone on the winner
    STORE_UNAVAILABLE = "store_unavailable"  # store down or slow: deterministic hash, written back later
    STORE_LOST = "store_lost"  # the store lost the experiment's data: control until a person acknowledges
    NO_UNIT_ID = "no_unit_id"  # the state had no unit id: default model
    ERROR = "error"  # an unexpected error inside routing (counted, logged once): default model
    TARGETED = "targeted"  # a YAML targeting rule forced the variant: not randomized, never observed
    EXCLUDED = "excluded"  # a YAML targeting rule (enrol: false) left the unit out: default model
    SHADOW = "shadow"  # pinned by the shadow/replay runner (routing_agent.scoring.shadow), off the books


NOT_RANDOMIZED = frozenset(
    {Reason.ROLLED_BACK.value, Reason.SHIPPED.value, Reason.STORE_LOST.value, Reason.TARGETED.value}
)
"""Reasons that put a unit in a variant without randomization: its calls are traced but never observed,
so an evaluation after a rollback or a ship cannot mix non-randomized units into an arm."""


class ModelChoice(TypedDict):
    """A model id with its params."""

    model: str
    params: dict[str, Any]


class Assignment(TypedDict):
    """What ``state["routing"][experiment_id]`` holds: plain data, so every checkpointer can store it."""

    experiment: str
    variant: str | None  # None when the unit is not enrolled (the agent's default model applies)
    model: str | None  # the variant's model id (``agent_models`` overrides it per agent)
    params: dict[str, Any]  # the variant's model params
    agent_models: dict[str, str]  # per-agent model overrides of the variant
    scope: list[str]  # agents the experiment applies to; empty = every agent
    unit: str  # session | user | request
    unit_id: str | None
    reason: str  # a ``Reason`` value
    segments: dict[str, str]
    fallback: ModelChoice  # model for in-scope agents when not enrolled and the agent has no default
    targeted: NotRequired[list[TargetedChoice]]  # rules routed_model evaluates at call time (segment ship)


class TargetedChoice(TypedDict):
    """A variant a unit gets once its attributes match ``when`` (read from the state at model-call time)."""

    when: dict[str, list[str]]
    variant: str
    model: str
    params: dict[str, Any]
    agent_models: dict[str, str]
