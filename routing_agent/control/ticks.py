"""``WatchTick``: what one ``watch`` evaluation saw and did: a line in the log, an object for the caller."""

from __future__ import annotations

__all__ = ["TickAction", "WatchTick"]

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from routing_agent.control.rollout import TERMINAL
from routing_agent.evaluation.decision import Decision
from routing_agent.stores.assignments.state import ExperimentState
from routing_agent.stores.reviews.base import ReviewItem


class TickAction(StrEnum):
    """What ``watch`` did with one evaluation."""

    NONE = "none"  # keep_running / invalid (or a proposal watch does not act on): nothing to change
    ROLLED_BACK = "rolled_back"  # a rollback decision: everyone on control (or found already rolled back)
    SHIPPED = "shipped"  # a ship decision without review: everyone on the winner
    RAMPED = "ramped"  # guardrails held: the ramp advanced one step (more units on the candidate)
    REVIEW_REQUESTED = "review_requested"  # review: required — a new item is waiting for a person
    REVIEW_PENDING = "review_pending"  # the experiment's item is still waiting
    REVIEW_REJECTED = "review_rejected"  # the same winner was rejected recently: not queued again
    SKIPPED = "skipped"  # the state changed during the evaluation: nothing applied, next tick re-evaluates
    TERMINAL = "terminal"  # rolled back / shipped / stopped already: nothing evaluated, watch stops
    ERROR = "error"  # evaluation or store failed: logged, retried next tick


@dataclass(frozen=True)
class WatchTick:
    """One evaluation of the watch loop and its consequence."""

    experiment: str
    at: float  # unix seconds
    action: TickAction
    state: ExperimentState | None  # the live state after the tick (None when the store could not be read)
    decision: Decision | None = None
    changed: bool = False  # this tick wrote a state change
    review: ReviewItem | None = None
    message: str = ""

    @property
    def stop(self) -> bool:
        """True when the experiment is in a terminal state: the loop ends."""
        return self.state is not None and self.state.status in TERMINAL

    def line(self) -> str:
        """One human-readable log line."""
        when = datetime.fromtimestamp(self.at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        parts = [when, self.experiment]
        if self.decision is not None:
            parts.append(self.decision.kind.value)
        parts.append(f"→ {self.action.value}" + ("" if self.changed or not self._acted else " (no-op)"))
        if self.state is not None:
            state = f"state {self.state.status.value} v{self.state.version}"
            if self.state.winner:
                state += f" winner {self.state.winner}"
            parts.append(f"[{state}]")
        if self.review is not None:
            parts.append(f"review {self.review.id} ({self.review.status.value})")
        text = "  ".join(parts)
        summary = self.decision.summary if self.decision is not None else ""
        detail = "  · ".join(d for d in (summary, self.message) if d)
        return f"{text}  — {detail}" if detail else text

    @property
    def _acted(self) -> bool:
        return self.action in (TickAction.ROLLED_BACK, TickAction.SHIPPED)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "experiment": self.experiment,
            "at": self.at,
            "action": self.action.value,
            "changed": self.changed,
            "state": None if self.state is None else self.state.to_json(),
            "decision": None if self.decision is None else self.decision.to_json(),
            "review": None if self.review is None else self.review.to_json(),
            "message": self.message,
            "stop": self.stop,
        }
