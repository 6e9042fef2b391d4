"""``review: required`` is enforced by the library, not only by ``watch``; the environment names the actor."""

from __future__ import annotations

import pytest

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.review import ReviewQueue
from routing_agent.control.rollout import IDENTITY_ENV, Rollout, environment_identity
from routing_agent.errors import StateTransitionError
from tests.control.conftest import Backend
from tests.control.specs import make_spec
from tests.control.support import better_candidate, conversion_decision

SPEC = make_spec("reviewed", review="required")


def test_ship_without_an_approved_review_is_refused(backend: Backend) -> None:
    rollout = Rollout(backend.store, SPEC)
    with pytest.raises(StateTransitionError, match="review: required"):
        rollout.ship("candidate", actor="mallory", reason="trust me")
    with pytest.raises(StateTransitionError, match="review: required"):
        rollout.apply("ship", actor="mallory", reason="trust me", winner="candidate")
    assert rollout.current().status is S.RUNNING and backend.store.history("reviewed") == []


def test_a_pending_or_foreign_review_does_not_unlock_a_ship(backend: Backend) -> None:
    queue = ReviewQueue(backend.store, backend.reviews, config=ExperimentsConfig(experiments=(SPEC,)))
    item, _ = queue.request(SPEC, conversion_decision(SPEC, *better_candidate()), actor="watch@a:1")
    rollout = Rollout(backend.store, SPEC, reviews=backend.reviews)
    with pytest.raises(StateTransitionError, match="not approved"):
        rollout.ship("candidate", actor="mallory", reason="pending is enough?", review=item.id)
    with pytest.raises(StateTransitionError, match="is not a review of shipping 'control'"):
        rollout.ship("control", actor="mallory", reason="wrong winner", review=item.id)
    assert rollout.current().status is S.RUNNING


def test_an_approved_review_ships_and_records_the_real_identity(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(IDENTITY_ENV, "svc-release-bot")
    queue = ReviewQueue(backend.store, backend.reviews, config=ExperimentsConfig(experiments=(SPEC,)))
    item, _ = queue.request(SPEC, conversion_decision(SPEC, *better_candidate()), actor="watch@a:1")
    outcome = queue.approve(item.id, reviewer="alice")
    state = backend.store.get_state("reviewed")
    assert state is not None and state.status is S.SHIPPED and outcome.change is not None
    assert state.actor == "alice" and state.evidence["identity"] == "svc-release-bot"
    assert state.evidence["review"] == item.id


def test_identity_comes_from_the_os_account_not_from_user_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    monkeypatch.delenv(IDENTITY_ENV, raising=False)
    monkeypatch.setenv("USER", "someone-else")
    assert environment_identity() == f"os:{pwd.getpwuid(__import__('os').geteuid()).pw_name}"


def test_experiments_without_review_still_ship_directly(backend: Backend) -> None:
    spec = make_spec("free")
    change = Rollout(backend.store, spec).ship("candidate", actor="alice", reason="clear win")
    assert change.applied and change.state.status is S.SHIPPED
    assert change.state.evidence["identity"] == environment_identity()
