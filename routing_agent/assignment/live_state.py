"""Ramps and segment-level ships as the live experiment state records them (its ``evidence``)."""

from __future__ import annotations

__all__ = ["RAMP_STEP", "SHIP_SEGMENT", "enrolment", "ramp_step", "ship_segment"]

from routing_agent.config.spec import ExperimentSpec, ExperimentStatus
from routing_agent.config.targeting import Conditions
from routing_agent.stores.assignments.state import ExperimentState

RAMP_STEP = "ramp_step"
"""The live state's ``evidence`` key holding a ramp's current step (0-based)."""
SHIP_SEGMENT = "ship_segment"
"""The live state's ``evidence`` key holding a segment-level ship's conditions (attribute → values)."""


def ship_segment(state: ExperimentState | None) -> Conditions:
    """The conditions of a segment-level ship (empty for a ship to everyone or any other state)."""
    if state is None or state.status is not ExperimentStatus.SHIPPED:
        return {}
    raw = state.evidence.get(SHIP_SEGMENT) or {}
    return {str(k): tuple(str(v) for v in (vs if isinstance(vs, list) else [vs])) for k, vs in raw.items()}


def ramp_step(state: ExperimentState | None) -> int:
    """The live ramp step (0 when never advanced)."""
    if state is None:
        return 0
    try:
        return max(0, int(state.evidence.get(RAMP_STEP, 0)))
    except (TypeError, ValueError):
        return 0


def enrolment(spec: ExperimentSpec, state: ExperimentState | None) -> float:
    """The coverage in force: the ramp's live step, else the YAML's ``coverage``."""
    if spec.ramp is None:
        return spec.coverage
    candidates = sum(v.weight or 0.0 for v in spec.variants if not v.control)
    return min(spec.coverage, spec.ramp.coverage(ramp_step(state), candidates))
