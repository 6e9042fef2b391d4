"""Human review: a ``ship`` decision waits here until a person approves or rejects it.

* ``request`` queues a proposal (one pending item per experiment; repeated requests — every ``watch`` tick, on
  every machine — return the pending item instead of piling up). A proposal rejected less than ``cooldown_s``
  ago for the same winner is not queued again.
* ``approve`` is the only path from a review to ``shipped`` (everyone on the winner; for a ``segmentation``
  decision, only the units of the segments where the winner is not worse — a segment-level ship). The item
  is claimed first (compare-and-set), then the experiment is shipped with a compare-and-set on the state
  version read before the claim; if the state moved in between, the claim is undone and the approval refused.
* A *stale* item — the experiment was rolled back, stopped, or shipped another winner after the request —
  cannot be approved: the evidence it was queued on no longer describes what users get.
* ``reject`` records the reviewer and note and leaves the experiment running (``stop=True`` also stops it).

A rollback never waits for review: ``watch`` applies it directly through ``Rollout``.
"""

from __future__ import annotations

__all__ = ["ReviewOutcome", "ReviewQueue", "segment_of"]

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from routing_agent.assignment.assigner import SHIP_SEGMENT
from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec, ExperimentStatus
from routing_agent.control.rollout import TERMINAL, Action, Rollout, StateChange
from routing_agent.errors import ReviewNotFound, StateTransitionError
from routing_agent.evaluation.decision import Decision, DecisionKind
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.state import ExperimentState
from routing_agent.stores.reviews.base import ReviewItem, ReviewStatus, ReviewStore
from routing_agent.stores.reviews.open import review_store_for

_PROPOSALS = {DecisionKind.SHIP, DecisionKind.NO_DIFFERENCE}


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass(frozen=True)
class ReviewOutcome:
    """What an approval or rejection did: the item as stored now, and the state change it made (if any)."""

    item: ReviewItem
    change: StateChange | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "review": self.item.to_json(),
            "change": None if self.change is None else self.change.to_json(),
        }


class ReviewQueue:
    """The review workflow over an assignment store (experiment state) and a review store (the items).

    Args:
        store: the shared assignment store holding the experiments' live state.
        reviews: the review store; default: the one beside ``store`` (same SQLite file / Redis / memory).
        config: loaded experiments, to validate winners and use YAML statuses (optional).
    """

    def __init__(
        self,
        store: AssignmentStore,
        reviews: ReviewStore | None = None,
        *,
        config: ExperimentsConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.reviews = reviews if reviews is not None else review_store_for(store)
        self.config = config
        self._clock = clock

    def rollout(self, experiment: ExperimentSpec | str, *, known: bool = False) -> Rollout:
        """A ``Rollout`` for the experiment (with its spec when the config knows it).

        ``known``: the experiment exists (it has review items), so a never-set state reads as running.
        """
        if isinstance(experiment, str) and self.config is not None:
            spec = next((s for s in self.config.experiments if s.id == experiment), None)
            if spec is not None:
                return Rollout(self.store, spec, reviews=self.reviews)
        return Rollout(self.store, experiment, known=known, reviews=self.reviews)

    # -- queueing ------------------------------------------------------------------------------------

    def request(
        self,
        experiment: ExperimentSpec | str,
        decision: Decision,
        *,
        actor: str,
        cooldown_s: float = 0.0,
    ) -> tuple[ReviewItem, bool]:
        """Queue ``decision``'s winner for review; returns ``(item, created)``.

        When the experiment already has a pending item, that item is returned (``created`` False). When the
        same winner was rejected less than ``cooldown_s`` ago, the rejected item is returned and nothing is
        queued. Raises ``StateTransitionError`` when the experiment can no longer ship (terminal state).
        """
        rollout = self.rollout(experiment)
        segmentation = decision.kind is DecisionKind.SEGMENTATION and decision.evidence.get("ship_segment")
        if (decision.kind not in _PROPOSALS and not segmentation) or not decision.winner:
            raise ValueError(
                "only ship / no_difference decisions with a winner, or segmentation decisions with segments "
                f"to ship, go to review, not {decision.kind.value}"
            )
        if decision.experiment != rollout.experiment:
            raise ValueError(f"decision is for '{decision.experiment}', not '{rollout.experiment}'")
        current = rollout.current()
        if current.status in TERMINAL:
            raise StateTransitionError(
                f"experiment '{rollout.experiment}' is {current.status.value} (by {current.actor}); "
                "nothing to review"
            )
        now = self._clock()
        if cooldown_s > 0:
            for item in reversed(self.reviews.items(rollout.experiment)):
                if (
                    item.status is ReviewStatus.REJECTED
                    and item.winner == decision.winner
                    and item.decided_at is not None
                    and now - item.decided_at < cooldown_s
                ):
                    return item, False
        item = ReviewItem(
            id=f"{rollout.experiment}:{secrets.token_hex(4)}",
            experiment=rollout.experiment,
            winner=decision.winner,
            decision=decision.to_json(),
            created_at=now,
            requested_by=actor,
            state_version=current.version,
        )
        return self.reviews.submit(item)

    # -- reading -------------------------------------------------------------------------------------

    def get(self, review_id: str) -> ReviewItem:
        """The item; raises ``ReviewNotFound`` naming how to list the queue."""
        item = self.reviews.get(review_id)
        if item is None:
            raise ReviewNotFound(
                f"no review '{review_id}' in {self.reviews!r}. List the queue with "
                "`routing-agent review list --store …` (ids look like <experiment>:<8 hex>)."
            )
        return item

    def items(self, experiment: str | None = None, status: ReviewStatus | None = None) -> list[ReviewItem]:
        """Items, oldest first, optionally of one experiment and one status."""
        return [i for i in self.reviews.items(experiment) if status is None or i.status is status]

    def stale_reason(self, item: ReviewItem) -> str | None:
        """Why ``item`` can no longer be approved, or None when it still describes the experiment."""
        for state in self.store.history(item.experiment):
            if state.version <= item.state_version:
                continue
            if state.status in (ExperimentStatus.ROLLED_BACK, ExperimentStatus.STOPPED):
                return f"the experiment was {state.status.value} after the request ({_describe(state)})"
            if state.status is ExperimentStatus.SHIPPED and state.winner != item.winner:
                return f"'{state.winner}' was shipped after the request ({_describe(state)})"
        return None

    # -- verdicts ------------------------------------------------------------------------------------

    def approve(self, review_id: str, *, reviewer: str, note: str = "") -> ReviewOutcome:
        """Approve and ship the item's winner (everyone gets it). Idempotent for the same item.

        Raises ``ReviewNotFound``, or ``StateTransitionError`` when the item was rejected, is stale, or the
        experiment changed while approving (the item then stays pending, and stale).
        """
        item = self.get(review_id)
        rollout = self.rollout(item.experiment, known=True)
        if item.status is ReviewStatus.REJECTED:
            raise StateTransitionError(
                f"review '{review_id}' was rejected by {item.reviewer} at {_when(item.decided_at or 0)}; "
                "it cannot be approved (a new ship decision from watch queues a new review)"
            )
        current = rollout.current()
        shipped = current.status is ExperimentStatus.SHIPPED and current.winner == item.winner
        shipped = shipped and (current.evidence.get(SHIP_SEGMENT) or {}) == (segment_of(item) or {})
        if item.status is ReviewStatus.APPROVED and shipped:
            return ReviewOutcome(item, StateChange(item.experiment, Action.SHIP, False, current, current))
        stale = self.stale_reason(item)
        if stale is not None:
            raise StateTransitionError(f"review '{review_id}' is stale: {stale}; it cannot be approved")
        claimed = item
        if item.status is ReviewStatus.PENDING:
            claimed = item.decided(ReviewStatus.APPROVED, reviewer=reviewer, note=note, at=self._clock())
            if not self.reviews.replace(item, claimed):
                return self.approve(review_id, reviewer=reviewer, note=note)  # decided meanwhile: re-read
        reason = f"review {review_id} approved by {claimed.reviewer}" + (f": {note}" if note else "")
        evidence = {"review": review_id, "decision": item.decision, "note": note}
        try:
            change = rollout.ship(
                item.winner,
                actor=reviewer,
                reason=reason,
                evidence=evidence,
                expected_version=current.version,
                review=review_id,
                segment=segment_of(item),
            )
        except StateTransitionError as exc:
            if claimed is not item:
                self.reviews.replace(claimed, item)  # undo the claim: the item stays pending (now stale)
            raise StateTransitionError(f"review '{review_id}' was not approved: {exc}") from exc
        return ReviewOutcome(claimed, change)

    def reject(self, review_id: str, *, reviewer: str, note: str = "", stop: bool = False) -> ReviewOutcome:
        """Reject the item; the experiment keeps running unless ``stop`` (then nobody is enrolled)."""
        item = self.get(review_id)
        if item.status is ReviewStatus.APPROVED:
            raise StateTransitionError(
                f"review '{review_id}' was already approved by {item.reviewer}; roll the experiment back "
                "instead (routing-agent rollback …)"
            )
        decided = item
        if item.status is ReviewStatus.PENDING:
            decided = item.decided(ReviewStatus.REJECTED, reviewer=reviewer, note=note, at=self._clock())
            if stop:
                decided = replace(decided, extra={**decided.extra, "stop": True})
            if not self.reviews.replace(item, decided):
                return self.reject(review_id, reviewer=reviewer, note=note, stop=stop)
        change = None
        if stop:
            reason = f"review {review_id} rejected by {decided.reviewer}" + (f": {note}" if note else "")
            change = self.rollout(item.experiment, known=True).stop(
                actor=reviewer, reason=reason, evidence={"review": review_id, "decision": item.decision}
            )
        return ReviewOutcome(decided, change)


def segment_of(item: ReviewItem) -> dict[str, list[str]] | None:
    """The segment a review ships to (a segmentation decision's ``ship_segment``), or None: everyone."""
    decision = item.decision
    if decision.get("kind") != DecisionKind.SEGMENTATION.value:
        return None
    segment = (decision.get("evidence") or {}).get("ship_segment") or None
    return {str(k): [str(v) for v in vs] for k, vs in segment.items()} if segment else None


def _describe(state: ExperimentState) -> str:
    text = f"version {state.version}, {_when(state.changed_at)} by {state.actor or 'unknown'}"
    return text + (f": {state.reason}" if state.reason else "")
