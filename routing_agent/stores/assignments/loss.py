"""``StoreLoss``: the record of a detected loss of an experiment's data in a shared store.

A Redis store can lose keys without any error: eviction under a ``maxmemory-policy`` other than
``noeviction``, ``FLUSHDB``, a restart without persistence. Every experiment in a Redis store carries an
*anchor* (an epoch token beside its state, and the server's eviction count when the anchor was made); a worker
that finds the anchor missing, replaced, or the server's eviction count grown records a ``StoreLoss`` in the
store itself, so every worker (including ones started later) sends every unit to control until a person
acknowledges the loss (``routing-agent recover``). A loss is never cleared by routing, only by that command
(or ``purge``).
"""

from __future__ import annotations

__all__ = ["LOSS_REASONS", "StoreLoss", "StoreLost"]

import json
from dataclasses import dataclass
from typing import Any

from routing_agent.errors import StoreError

LOSS_REASONS = {
    "anchor_missing": "the experiment's anchor is gone (FLUSHDB, a restart without persistence, or eviction)",
    "epoch_changed": "the experiment's anchor was replaced (its data was lost and written afresh)",
    "evicted": "Redis evicted keys (maxmemory-policy is not noeviction); assignments may be gone",
    "state_missing": "the experiment's state is gone while its anchor says one was written",
}
"""Why a loss was recorded (the ``reason`` of ``StoreLoss``), in words for logs and ``status``."""


@dataclass(frozen=True, slots=True)
class StoreLoss:
    """A loss recorded in the store: why, when, by which worker, and the epoch that was lost."""

    experiment: str
    reason: str  # a key of LOSS_REASONS
    detected_at: float  # unix seconds
    detected_by: str  # host:pid of the worker that noticed
    lost_epoch: str = ""

    @property
    def description(self) -> str:
        """The reason in words."""
        return LOSS_REASONS.get(self.reason, self.reason)

    def encode(self) -> str:
        """The JSON kept in the store (without the experiment id, which the key names)."""
        return json.dumps(
            {"reason": self.reason, "at": self.detected_at, "by": self.detected_by, "epoch": self.lost_epoch},
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, experiment: str, raw: str | bytes) -> StoreLoss:
        """Inverse of ``encode``; a value written by the Lua scripts (``reason|at|by|epoch``) is read too."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            data: dict[str, Any] = json.loads(text)
        except ValueError:
            reason, _, rest = text.partition("|")
            at, _, rest = rest.partition("|")
            by, _, epoch = rest.partition("|")
            data = {"reason": reason, "at": at or 0, "by": by, "epoch": epoch}
        return cls(
            experiment,
            str(data.get("reason", "unknown")),
            float(data.get("at") or 0.0),
            str(data.get("by", "")),
            str(data.get("epoch", "")),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "experiment": self.experiment,
            "reason": self.reason,
            "description": self.description,
            "detected_at": self.detected_at,
            "detected_by": self.detected_by,
            "lost_epoch": self.lost_epoch,
        }


class StoreLost(StoreError):
    """Raised by a store call that found the experiment's data lost (see ``StoreLoss``); not an outage."""

    def __init__(self, loss: StoreLoss) -> None:
        super().__init__(f"experiment '{loss.experiment}': store lost data: {loss.description}")
        self.loss = loss
