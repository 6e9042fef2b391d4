"""State transitions and their audit trail, on every backend (memory, SQLite, real Redis)."""

from __future__ import annotations

import time

import pytest

from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.rollout import ALLOWED, TERMINAL, Action, Rollout, cli_actor, watch_actor
from routing_agent.errors import ExperimentNotFound, StateTransitionError
from tests.control.conftest import Backend
from tests.control.specs import make_spec
from tests.control.support import latency_decision, slow_candidate

# How to bring a fresh (running, version 0) experiment into each status.
PATH_TO = {
    S.RUNNING: [],
    S.PAUSED: [Action.PAUSE],
    S.SHIPPED: [Action.SHIP],
    S.ROLLED_BACK: [Action.ROLLBACK],
    S.STOPPED: [Action.STOP],
}


def _bring(rollout: Rollout, status: S) -> None:
    for action in PATH_TO[status]:
        winner = "candidate" if action is Action.SHIP else None
        rollout.apply(action, actor="setup", reason="setup", winner=winner)


@pytest.mark.parametrize("start", list(S))
def test_every_transition_is_allowed_or_refused_by_the_table(backend: Backend, start: S) -> None:
    for action in Action:
        experiment = f"t-{start.value}-{action.value}"
        rollout = Rollout(backend.store, make_spec(experiment))
        _bring(rollout, start)
        before = backend.store.history(experiment)
        winner = "control" if action is Action.SHIP else None  # differs from the setup ship's winner
        if action in ALLOWED[start]:
            change = rollout.apply(action, actor="alice", reason=f"{action.value} please", winner=winner)
            assert change.applied
            assert change.previous.status is start
            assert change.state.status is action.target
            assert backend.store.get_state(experiment) == change.state
            assert backend.store.history(experiment) == [*before, change.state]
        elif action.target is start and action is not Action.SHIP:
            change = rollout.apply(action, actor="alice", reason="again")
            assert not change.applied  # idempotent no-op
            assert backend.store.history(experiment) == before
        else:
            with pytest.raises(StateTransitionError, match=f"cannot {action.value}"):
                rollout.apply(action, actor="alice", reason="nope", winner=winner)
            assert backend.store.history(experiment) == before


def test_a_change_records_actor_time_reason_and_evidence(backend: Backend) -> None:
    spec = make_spec("audited")
    decision = latency_decision(spec, *slow_candidate())
    rollout = Rollout(backend.store, spec)
    t0 = time.time()
    change = rollout.rollback(
        actor=watch_actor(), reason=decision.summary, evidence={"decision": decision.to_json()}
    )
    (entry,) = backend.store.history("audited")
    assert entry == change.state
    assert entry.status is S.ROLLED_BACK
    assert entry.actor.startswith("watch@") and entry.actor.rsplit(":", 1)[1].isdigit()
    assert t0 - 1 <= entry.changed_at <= time.time() + 1
    assert entry.reason.startswith("Roll back: candidate p95 latency is")
    assert entry.evidence["decision"]["kind"] == "rollback"
    assert entry.evidence["decision"]["guardrails"][0]["breached"] is True
    assert entry.version == 1


def test_rolling_back_twice_is_a_no_op_not_an_error(backend: Backend) -> None:
    rollout = Rollout(backend.store, make_spec("twice"))
    first = rollout.rollback(actor="watch@a:1", reason="p95 breach")
    second = rollout.rollback(actor="watch@b:2", reason="p95 breach")
    assert first.applied and not second.applied
    assert second.state == first.state
    assert [s.actor for s in backend.store.history("twice")] == ["watch@a:1"]


def test_shipping_the_same_winner_twice_is_a_no_op_and_another_winner_is_refused(backend: Backend) -> None:
    rollout = Rollout(backend.store, make_spec("ship"))
    assert rollout.ship("candidate", actor="alice", reason="approved").applied
    assert not rollout.ship("candidate", actor="bob", reason="approved again").applied
    with pytest.raises(StateTransitionError, match="shipped with winner 'candidate'"):
        rollout.ship("control", actor="bob", reason="changed my mind")
    assert len(backend.store.history("ship")) == 1


def test_resume_after_rollback_is_explicit_and_audited(backend: Backend) -> None:
    rollout = Rollout(backend.store, make_spec("resumed"))
    rollout.rollback(actor="watch@a:1", reason="breach")
    with pytest.raises(StateTransitionError, match="resume it explicitly"):
        rollout.ship("candidate", actor="alice", reason="ship anyway")
    with pytest.raises(ValueError, match="needs a reason"):
        rollout.resume(actor="alice", reason=" ")
    change = rollout.resume(actor="alice", reason="latency fix deployed in the candidate")
    assert change.applied and change.state.status is S.RUNNING
    assert [(s.status, s.actor) for s in backend.store.history("resumed")] == [
        (S.ROLLED_BACK, "watch@a:1"),
        (S.RUNNING, "alice"),
    ]


def test_ship_needs_a_declared_variant_and_others_take_no_winner(backend: Backend) -> None:
    rollout = Rollout(backend.store, make_spec("winners"))
    with pytest.raises(StateTransitionError, match="no variant 'gpt-9'"):
        rollout.ship("gpt-9", actor="alice", reason="x")
    with pytest.raises(StateTransitionError, match="needs a winner"):
        rollout.apply(Action.SHIP, actor="alice", reason="x")
    with pytest.raises(ValueError, match="only meaningful when shipping"):
        rollout.apply(Action.ROLLBACK, actor="alice", reason="x", winner="control")
    with pytest.raises(ValueError, match="needs an actor"):
        rollout.rollback(actor="", reason="x")
    assert backend.store.history("winners") == []


def test_expected_version_refuses_a_change_made_meanwhile(backend: Backend) -> None:
    rollout = Rollout(backend.store, make_spec("cas"))
    seen = rollout.current()
    assert seen.version == 0
    rollout.pause(actor="bob", reason="investigating")
    with pytest.raises(StateTransitionError, match="changed since version 0"):
        rollout.ship("candidate", actor="alice", reason="x", expected_version=seen.version)
    assert backend.store.get_state("cas").status is S.PAUSED  # type: ignore[union-attr]


def test_the_yaml_status_applies_until_the_store_records_one(backend: Backend) -> None:
    paused = make_spec("yaml-paused", status="paused")
    rollout = Rollout(backend.store, paused)
    assert rollout.current().status is S.PAUSED and rollout.current().version == 0
    assert not rollout.pause(actor="alice", reason="x").applied  # already paused by the YAML
    assert rollout.resume(actor="alice", reason="go").state.version == 1


def test_an_experiment_unknown_to_the_store_is_named_when_given_by_id(backend: Backend) -> None:
    with pytest.raises(ExperimentNotFound, match="'nope' is unknown"):
        Rollout(backend.store, "nope").rollback(actor="alice", reason="x")
    backend.store.get_or_set("served", "unit-1", "control")  # it served traffic: the id alone is enough
    assert Rollout(backend.store, "served").rollback(actor="alice", reason="x").applied


def test_a_second_handle_sees_the_change_at_once(shared_backend: Backend) -> None:
    other, _ = shared_backend.open_again()
    Rollout(shared_backend.store, make_spec("seen")).rollback(actor="alice", reason="x")
    assert other.get_state("seen").status is S.ROLLED_BACK  # type: ignore[union-attr]
    assert not Rollout(other, make_spec("seen")).rollback(actor="bob", reason="x").applied


def test_actor_defaults() -> None:
    assert cli_actor("  carol ") == "carol"
    assert cli_actor(None)  # $USER or the login name, never empty
    assert {S.ROLLED_BACK, S.SHIPPED, S.STOPPED} == TERMINAL
