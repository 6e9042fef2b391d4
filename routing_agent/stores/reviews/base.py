"""The review item and the review-store protocol every backend (memory, SQLite, Redis) implements.

A review item is one proposal to ship a winner, waiting for a person. A store holds at most one *pending*
item per experiment (``submit`` is create-unless-pending, atomic across processes and machines), and every
change of an item is a compare-and-set on its exact stored value (``replace``), so two reviewers deciding
the same item at once cannot both win.

Review stores are control-plane stores: called a few times a minute by ``watch`` and by people at the CLI,
never on the graph's hot path, so they have no async twins (the async watcher calls them in a worker thread).
"""

from __future__ import annotations

__all__ = ["ReviewItem", "ReviewStatus", "ReviewStore", "decode_item", "encode_item", "experiment_of"]

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from routing_agent.stores.capabilities import Capability


class ReviewStatus(StrEnum):
    """Where a review item stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ReviewItem:
    """A proposal to ship ``winner`` in ``experiment``, with the evidence and, once decided, the verdict."""

    id: str  # "<experiment>:<8 hex>", so the experiment is known from the id alone
    experiment: str
    winner: str
    decision: dict[str, Any]  # the evaluator's Decision JSON that proposed the ship
    created_at: float  # unix seconds
    requested_by: str  # actor that queued it (e.g. "watch@host:pid")
    state_version: int  # the experiment's state version when queued (staleness check)
    status: ReviewStatus = ReviewStatus.PENDING
    reviewer: str | None = None
    note: str = ""
    decided_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. why an approval did not ship

    @property
    def summary(self) -> str:
        """The decision's one-sentence summary."""
        return str(self.decision.get("summary") or "")

    def decided(self, status: ReviewStatus, *, reviewer: str, note: str, at: float) -> ReviewItem:
        """A copy carrying a verdict."""
        return replace(self, status=status, reviewer=reviewer, note=note, decided_at=at)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "experiment": self.experiment,
            "winner": self.winner,
            "decision": self.decision,
            "created_at": self.created_at,
            "requested_by": self.requested_by,
            "state_version": self.state_version,
            "status": self.status.value,
            "reviewer": self.reviewer,
            "note": self.note,
            "decided_at": self.decided_at,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReviewItem:
        """Inverse of ``to_json``."""
        decided_at = data.get("decided_at")
        return cls(
            id=str(data["id"]),
            experiment=str(data["experiment"]),
            winner=str(data["winner"]),
            decision=dict(data.get("decision") or {}),
            created_at=float(data["created_at"]),
            requested_by=str(data.get("requested_by", "")),
            state_version=int(data.get("state_version", 0)),
            status=ReviewStatus(data.get("status", "pending")),
            reviewer=data.get("reviewer"),
            note=str(data.get("note") or ""),
            decided_at=None if decided_at is None else float(decided_at),
            extra=dict(data.get("extra") or {}),
        )


def encode_item(item: ReviewItem) -> str:
    """Canonical JSON (sorted keys): equal items encode to equal strings, which ``replace`` compares."""
    return json.dumps(item.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode_item(data: str | bytes) -> ReviewItem:
    """Inverse of ``encode_item``."""
    return ReviewItem.from_json(json.loads(data))


def experiment_of(review_id: str) -> str:
    """The experiment part of a review id (``"<experiment>:<hex>"``)."""
    experiment, sep, _ = review_id.rpartition(":")
    return experiment if sep else ""


@runtime_checkable
class ReviewStore(Protocol):
    """Review items readable by every process (and machine, for Redis) that shares the store."""

    capabilities: frozenset[Capability]

    def submit(self, item: ReviewItem) -> tuple[ReviewItem, bool]:
        """Store a pending ``item`` unless its experiment already has a pending one.

        Returns ``(the experiment's pending item, created)``: when another item is pending, it is returned
        with ``created`` False and nothing is written.
        """
        ...

    def get(self, review_id: str) -> ReviewItem | None:
        """The item with this id, or None."""
        ...

    def items(self, experiment: str | None = None) -> list[ReviewItem]:
        """Every item (of one experiment, or of all), oldest first."""
        ...

    def replace(self, old: ReviewItem, new: ReviewItem) -> bool:
        """Compare-and-set: store ``new`` in place of ``old`` only if the stored item still equals ``old``.

        Moving an item out of ``pending`` frees its experiment's pending slot; moving one back takes the slot
        only when it is free (returns False otherwise). Returns False when the stored item differs.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...
