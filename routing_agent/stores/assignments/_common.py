"""Pieces every store backend shares: argument checks and the experiment-state codec.

A state is stored as ``(version, data)``: ``data`` is the JSON of ``ExperimentState`` without its version, so
a backend can bump the version atomically (SQL ``UPDATE``, a Lua script) without re-encoding the JSON.
"""

from __future__ import annotations

__all__ = ["cas_conflict", "check_assignment", "decode_state", "encode_state", "new_state"]

import json
import math
import time
from typing import Any

from routing_agent.config.spec import ExperimentStatus
from routing_agent.errors import StateTransitionError
from routing_agent.stores.assignments.state import ExperimentState


def check_assignment(experiment: str, unit_id: str, variant: str, ttl_s: float | None) -> None:
    """Reject arguments no backend can store faithfully (raises ``ValueError``/``TypeError``)."""
    if not isinstance(experiment, str) or not experiment:
        raise ValueError("experiment must be a non-empty string")
    if not isinstance(unit_id, str):
        raise TypeError(f"unit_id must be a string, not {type(unit_id).__name__}")
    if not isinstance(variant, str) or not variant:
        raise ValueError("variant must be a non-empty string")
    if ttl_s is not None and not (ttl_s > 0 and math.isfinite(ttl_s)):
        raise ValueError(f"ttl_s must be a positive number of seconds or None, not {ttl_s!r}")


def new_state(
    experiment: str,
    status: ExperimentStatus | str,
    *,
    actor: str,
    reason: str,
    winner: str | None,
    evidence: dict[str, Any] | None,
) -> ExperimentState:
    """A version-0 state for ``set_state`` (the backend sets the version); rejects what none may store."""
    if not isinstance(experiment, str) or not experiment:
        raise ValueError("experiment must be a non-empty string")
    status = ExperimentStatus(status)
    if status is ExperimentStatus.SHIPPED and not winner:
        raise StateTransitionError(
            f"experiment '{experiment}': shipping needs a winner variant (pass winner=...)"
        )
    return ExperimentState(
        experiment=experiment,
        status=status,
        winner=winner,
        version=0,
        changed_at=time.time(),
        actor=actor,
        reason=reason,
        evidence=dict(evidence or {}),
    )


def encode_state(state: ExperimentState) -> str:
    """JSON of the state without its version (the backend stores the version beside it)."""
    data = state.to_json()
    del data["version"]
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode_state(version: int, data: str | bytes) -> ExperimentState:
    """Inverse of ``encode_state``."""
    payload = json.loads(data)
    payload["version"] = int(version)
    return ExperimentState.from_json(payload)


def cas_conflict(experiment: str, expected: int, current: int) -> StateTransitionError:
    """The error a compare-and-set raises when another writer changed the state first."""
    return StateTransitionError(
        f"experiment '{experiment}': state changed concurrently (expected version {expected}, "
        f"found {current}); re-read the state and retry"
    )
