"""The review workflow on every backend: queue, approve → shipped, reject, stale items refused."""

from __future__ import annotations

import threading

import pytest

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.review import ReviewQueue
from routing_agent.control.rollout import Rollout
from routing_agent.errors import ReviewNotFound, StateTransitionError
from routing_agent.evaluation.decision import DecisionKind
from routing_agent.stores.reviews import ReviewStatus
from tests.control.conftest import Backend
from tests.control.specs import make_spec
from tests.control.support import (
    better_candidate,
    conversion_decision,
    latency_decision,
    slow_candidate,
)

SPEC = make_spec("reviewed", review="required")


@pytest.fixture
def queue(backend: Backend) -> ReviewQueue:
    return ReviewQueue(backend.store, backend.reviews, config=ExperimentsConfig(experiments=(SPEC,)))


def _ship_decision():
    decision = conversion_decision(SPEC, *better_candidate())
    assert decision.kind is DecisionKind.SHIP and decision.winner == "candidate"  # the data says so
    return decision


def test_a_ship_waits_in_the_queue_and_repeats_do_not_pile_up(queue: ReviewQueue, backend: Backend) -> None:
    item, created = queue.request(SPEC, _ship_decision(), actor="watch@a:1")
    assert created and item.status is ReviewStatus.PENDING and item.winner == "candidate"
    assert item.id.startswith("reviewed:") and item.state_version == 0
    assert item.decision["evidence"]["p_value"] < 0.05
    again, created = queue.request(SPEC, _ship_decision(), actor="watch@b:2")
    assert not created and again == item
    assert queue.rollout(SPEC).current().status is S.RUNNING  # nothing shipped yet
    assert backend.store.history("reviewed") == []


def test_approval_ships_the_winner_with_the_reviewer_on_record(queue: ReviewQueue, backend: Backend) -> None:
    item, _ = queue.request(SPEC, _ship_decision(), actor="watch@a:1")
    outcome = queue.approve(item.id, reviewer="alice", note="quality up, cost flat")
    assert outcome.item.status is ReviewStatus.APPROVED and outcome.item.reviewer == "alice"
    assert outcome.item.note == "quality up, cost flat" and outcome.item.decided_at is not None
    state = backend.store.get_state("reviewed")
    assert state is not None and state.status is S.SHIPPED and state.winner == "candidate"
    assert state.actor == "alice" and item.id in state.reason and "quality up" in state.reason
    assert state.evidence["review"] == item.id and state.evidence["decision"]["kind"] == "ship"
    assert queue.get(item.id) == outcome.item
    # approving again is a no-op, not a second ship
    assert not queue.approve(item.id, reviewer="bob").change.applied  # type: ignore[union-attr]
    assert len(backend.store.history("reviewed")) == 1


def test_rejection_records_and_keeps_running(queue: ReviewQueue, backend: Backend) -> None:
    item, _ = queue.request(SPEC, _ship_decision(), actor="watch@a:1")
    outcome = queue.reject(item.id, reviewer="bob", note="judge scores look off")
    assert outcome.change is None and outcome.item.status is ReviewStatus.REJECTED
    assert queue.get(item.id).note == "judge scores look off"
    assert queue.rollout(SPEC).current().status is S.RUNNING
    with pytest.raises(StateTransitionError, match="was rejected by bob"):
        queue.approve(item.id, reviewer="alice")
    # within the cooldown the same winner is not queued again; after it, it is
    blocked, created = queue.request(SPEC, _ship_decision(), actor="watch@a:1", cooldown_s=3600)
    assert not created and blocked.id == item.id
    fresh, created = queue.request(SPEC, _ship_decision(), actor="watch@a:1", cooldown_s=0)
    assert created and fresh.id != item.id


def test_rejection_with_stop_stops_the_experiment(queue: ReviewQueue, backend: Backend) -> None:
    item, _ = queue.request(SPEC, _ship_decision(), actor="watch@a:1")
    outcome = queue.reject(item.id, reviewer="bob", note="not worth it", stop=True)
    assert outcome.change is not None and outcome.change.applied
    assert outcome.item.extra == {"stop": True}
    state = backend.store.get_state("reviewed")
    assert state is not None and state.status is S.STOPPED and state.actor == "bob"


def test_a_review_is_stale_after_a_rollback_and_cannot_be_approved(
    queue: ReviewQueue, backend: Backend
) -> None:
    item, _ = queue.request(SPEC, _ship_decision(), actor="watch@a:1")
    breach = latency_decision(SPEC, *slow_candidate())
    assert breach.kind is DecisionKind.ROLLBACK
    Rollout(backend.store, SPEC).rollback(actor="watch@b:2", reason=breach.summary)
    # even after an explicit resume, the evidence predates a rollback: still stale
    Rollout(backend.store, SPEC).resume(actor="carol", reason="fixed")
    assert "rolled_back after the request" in (queue.stale_reason(item) or "")
    with pytest.raises(StateTransitionError, match="stale: the experiment was rolled_back"):
        queue.approve(item.id, reviewer="alice")
    assert queue.get(item.id).status is ReviewStatus.PENDING
    assert backend.store.get_state("reviewed").status is S.RUNNING  # type: ignore[union-attr]


def test_a_rollback_racing_an_approval_wins_or_loses_cleanly(queue: ReviewQueue, backend: Backend) -> None:
    """Approval and rollback at the same moment: the end state is consistent with the item either way."""
    for round_ in range(5):
        spec = make_spec(f"race-{round_}", review="required")
        q = ReviewQueue(backend.store, backend.reviews, config=ExperimentsConfig(experiments=(spec,)))
        decision = conversion_decision(spec, *better_candidate())
        item, _ = q.request(spec, decision, actor="watch@a:1")
        barrier = threading.Barrier(2)
        errors: list[Exception] = []
        threads = [
            threading.Thread(target=_approve, args=(q, item.id, barrier, errors)),
            threading.Thread(target=_rollback, args=(Rollout(backend.store, spec), barrier)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        state = backend.store.get_state(spec.id)
        final = q.get(item.id)
        assert state is not None and state.status is S.ROLLED_BACK  # the rollback always lands
        history = [s.status for s in backend.store.history(spec.id)]
        if errors:  # the rollback came first: the approval was refused and the item left pending
            assert history == [S.ROLLED_BACK] and final.status is ReviewStatus.PENDING
        else:  # the approval shipped first, then the rollback sent everyone back to control
            assert history == [S.SHIPPED, S.ROLLED_BACK] and final.status is ReviewStatus.APPROVED


def _approve(q: ReviewQueue, item_id: str, barrier: threading.Barrier, errors: list[Exception]) -> None:
    barrier.wait()
    try:
        q.approve(item_id, reviewer="alice")
    except StateTransitionError as exc:
        errors.append(exc)


def _rollback(rollout: Rollout, barrier: threading.Barrier) -> None:
    barrier.wait()
    rollout.rollback(actor="watch@b:2", reason="breach")


def test_unknown_review_ids_are_named(queue: ReviewQueue) -> None:
    with pytest.raises(ReviewNotFound, match=r"no review 'reviewed:deadbeef'.*review list"):
        queue.approve("reviewed:deadbeef", reviewer="alice")


def test_only_proposals_with_a_winner_are_queued(queue: ReviewQueue) -> None:
    keep = latency_decision(SPEC, *slow_candidate(n=20))  # too little sample: keep running
    assert keep.kind is DecisionKind.KEEP_RUNNING
    with pytest.raises(ValueError, match="only ship / no_difference"):
        queue.request(SPEC, keep, actor="watch@a:1")
    Rollout(queue.store, SPEC).rollback(actor="watch@a:1", reason="breach")
    with pytest.raises(StateTransitionError, match="nothing to review"):
        queue.request(SPEC, _ship_decision(), actor="watch@a:1")
