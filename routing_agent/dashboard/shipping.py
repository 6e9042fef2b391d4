"""Ship from the dashboard: to everyone or to a segment, through the CLI's library call or its review.

A segment is ``attribute → values`` (``{"tier": ["pro"]}``): values of one attribute are alternatives, several
attributes must all match — ``routing-agent ship --segment tier=pro`` writes the same. The page only offers
what it can justify: attribute values observed in the experiment's data, or the evaluator's segmentation
reading (``ExperimentView.segment_offer``); anything else is refused with a 400.

Shipping goes through ``Rollout.ship`` (what ``routing-agent ship`` calls). An experiment with ``review:
required`` is never shipped directly: the request is queued as a review item (``ReviewQueue.request``, a
``segmentation`` decision for a segment) and the ship happens when someone approves it — the same review
enforcement as everywhere else.
"""

from __future__ import annotations

__all__ = [
    "MAX_SEGMENT_TEXT",
    "ShipOutcome",
    "check_offered",
    "decode_segment",
    "encode_segment",
    "parse_pairs",
]

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from routing_agent.config.spec import ExperimentSpec
from routing_agent.control.identity import describe_segment
from routing_agent.control.review import ReviewQueue, segment_of
from routing_agent.control.rollout import Rollout, StateChange
from routing_agent.dashboard.board import Board
from routing_agent.errors import StateTransitionError
from routing_agent.evaluation.decision import Decision, DecisionKind
from routing_agent.stores.reviews.base import ReviewItem

MAX_SEGMENT_TEXT = 2_000
Segment = dict[str, list[str]]


def parse_pairs(pairs: Iterable[str]) -> Segment:
    """``["tier=pro", "tier=team", "region=eu"]`` → ``{"region": ["eu"], "tier": ["pro", "team"]}``."""
    segment: dict[str, set[str]] = {}
    for text in pairs:
        key, sep, value = text.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"segment '{text[:80]}' is not attribute=value (e.g. tier=pro)")
        segment.setdefault(key.strip(), set()).add(value.strip())
    return {k: sorted(vs) for k, vs in sorted(segment.items())}


def encode_segment(segment: Mapping[str, list[str]]) -> str:
    """The segment as the confirmation form's hidden field (canonical JSON)."""
    return json.dumps({k: sorted(vs) for k, vs in sorted(segment.items())}, separators=(",", ":"))


def decode_segment(text: str) -> Segment:
    """The hidden field back; ``ValueError`` for anything but a non-empty ``{attribute: [values]}``."""
    if len(text) > MAX_SEGMENT_TEXT:
        raise ValueError(f"the segment is longer than {MAX_SEGMENT_TEXT} characters")
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("the segment field is not valid: reload the page and confirm again") from None
    valid = (
        isinstance(raw, dict)
        and raw
        and all(
            isinstance(k, str)
            and k
            and isinstance(vs, list)
            and vs
            and all(isinstance(v, str) and v for v in vs)
            for k, vs in raw.items()
        )
    )
    if not valid:
        raise ValueError('the segment must map attributes to lists of values, e.g. {"tier": ["pro"]}')
    return {k: sorted(set(vs)) for k, vs in sorted(raw.items())}


def check_offered(spec: ExperimentSpec, winner: str, segment: Segment, offer: Mapping[str, set[str]]) -> None:
    """Refuse (``ValueError``) a segment the page does not offer, or a segment ship of the control."""
    if winner == spec.control.name:
        raise ValueError(
            f"'{winner}' is the control: shipping it to a segment changes nothing "
            "(roll back to move everyone to it)"
        )
    for key, values in segment.items():
        unknown = sorted(set(values) - offer.get(key, set()))
        if unknown:
            seen = ", ".join(f"{k}={'|'.join(sorted(vs))}" for k, vs in sorted(offer.items())) or "none yet"
            raise ValueError(
                f"{key}={'|'.join(unknown)} is not a segment of '{spec.id}' in the data or the evaluation "
                f"(observed: {seen})"
            )


@dataclass(frozen=True)
class ShipOutcome:
    """A dashboard ship: the state change made, or the review item that now waits for approval."""

    change: StateChange | None = None
    review: ReviewItem | None = None
    created: bool = False  # a new review item was queued (False: one was pending already)

    def message(self, winner: str, segment: Segment | None) -> str:
        """One sentence for the page."""
        target = f"'{winner}' to {describe_segment(segment)}" if segment else f"'{winner}' to everyone"
        if self.change is not None:
            done = "applied" if self.change.applied else "already so, nothing changed"
            return f"ship {target}: {done}"
        assert self.review is not None
        if self.created:
            return f"ship {target}: review {self.review.id} requested (review: required); approve it to ship"
        return f"ship {target}: review {self.review.id} is already pending; approve it to ship"


def ship(
    board: Board, spec: ExperimentSpec, winner: str, segment: Segment | None, *, actor: str, reason: str
) -> ShipOutcome:
    """Ship ``winner`` (to ``segment`` when given) — or queue it for review when the YAML requires one."""
    if winner not in {v.name for v in spec.variants}:
        names = ", ".join(v.name for v in spec.variants)
        raise StateTransitionError(
            f"experiment '{spec.id}' has no variant '{winner}' to ship (variants: {names})"
        )
    if spec.review != "required":
        change = Rollout(board.store, spec, reviews=board.reviews).ship(
            winner, actor=actor, reason=reason, evidence={"source": "dashboard"}, segment=segment or None
        )
        return ShipOutcome(change=change)
    kind = DecisionKind.SEGMENTATION if segment else DecisionKind.SHIP
    where = f"to {describe_segment(segment)}" if segment else "to everyone"
    evidence: dict[str, Any] = {"source": "dashboard", "reason": reason}
    if segment:
        evidence["ship_segment"] = segment
    decision = Decision(
        spec.id, kind, f"{actor} asks to ship '{winner}' {where}: {reason}", winner=winner,
        review_required=True, evidence=evidence,
    )  # fmt: skip
    queue = ReviewQueue(board.store, board.reviews, config=board.config)
    item, created = queue.request(spec, decision, actor=actor)
    if not created and (item.winner != winner or (segment_of(item) or {}) != (segment or {})):
        proposal = f"'{item.winner}'" + (
            f" to {describe_segment(segment_of(item) or {})}" if segment_of(item) else ""
        )
        raise StateTransitionError(
            f"review {item.id} (ship {proposal}, requested by {item.requested_by}) is "
            f"{item.status.value}: decide it before requesting another ship"
        )
    return ShipOutcome(review=item, created=created)
