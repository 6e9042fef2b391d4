"""``ExperimentState``: an experiment's live state as every assignment store persists it.

Running, paused, rolled back, shipped or stopped, with the version a compare-and-set checks and the audit
fields (actor, reason, evidence) of the change that made it. Every worker reads it through the shared store.
"""

from __future__ import annotations

__all__ = ["ExperimentState"]

from dataclasses import dataclass, field
from typing import Any

from routing_agent.config.spec import ExperimentStatus


@dataclass(frozen=True)
class ExperimentState:
    """The live state of an experiment, shared by every worker through the store."""

    experiment: str
    status: ExperimentStatus
    winner: str | None = None  # the variant everyone gets when shipped
    version: int = 0  # increments on every change; used for compare-and-set
    changed_at: float = 0.0  # unix seconds
    actor: str = ""  # who or what made the change ("watch@host", "alice", "config")
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "experiment": self.experiment,
            "status": self.status.value,
            "winner": self.winner,
            "version": self.version,
            "changed_at": self.changed_at,
            "actor": self.actor,
            "reason": self.reason,
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExperimentState:
        """Inverse of ``to_json``."""
        return cls(
            experiment=str(data["experiment"]),
            status=ExperimentStatus(data["status"]),
            winner=data.get("winner"),
            version=int(data.get("version", 0)),
            changed_at=float(data.get("changed_at", 0.0)),
            actor=str(data.get("actor", "")),
            reason=str(data.get("reason", "")),
            evidence=dict(data.get("evidence") or {}),
        )
