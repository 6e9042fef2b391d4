"""Experiment state changes: which transitions are allowed, who made them, and exactly-once application.

Every change goes through ``Rollout.apply`` and lands in the shared store with its actor, time, reason and
evidence (the evaluator's ``Decision`` JSON for automated changes), so every worker's routing node follows it
on its next state read and ``routing-agent status`` shows the audit trail.

Allowed transitions (``action``: target status)::

    from \\ action   pause   resume   rollback   stop   ship
    running          ✓        ·        ✓          ✓      ✓
    paused           ·        ✓        ✓          ✓      ✓
    shipped          ·        ·        ✓          ✓      ·     (rollback = everyone back on control)
    rolled_back      ·        ✓*       ·          ✓      ·
    stopped          ·        ✓*       ·          ·      ·

``rolled_back``, ``shipped`` and ``stopped`` are terminal for automation (``watch`` stops on them); only a
person leaves them. ``resume`` (*) of a rolled-back or stopped experiment is the explicit, audited way back
to ``running``: units keep the variants stored before, so the comparison continues where it stopped.

Idempotent: an action whose target is the current status (same winner for ``ship``) is a no-op that returns
``applied=False`` and writes nothing. Concurrent: every write is a compare-and-set on the state version, so
when several ``watch`` processes on several machines roll back at once exactly one history entry is written;
the others re-read, find the experiment rolled back, and report a no-op.

Enforced review: when the experiment says ``review: required``, ``ship`` (and ``apply("ship")``) refuses
unless it names an *approved* review item of that experiment and winner (``ReviewQueue.approve`` does). Who:
every change records ``evidence["identity"]``, taken from the environment (``ROUTING_AGENT_IDENTITY`` when
set, else the OS account running the process) beside the ``actor`` the caller claims.
"""

from __future__ import annotations

__all__ = [
    "IDENTITY_ENV",
    "TERMINAL",
    "Action",
    "Rollout",
    "StateChange",
    "cli_actor",
    "describe_segment",
    "environment_identity",
    "watch_actor",
]

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from routing_agent.assignment.assigner import RAMP_STEP, SHIP_SEGMENT
from routing_agent.config.spec import ExperimentSpec, ExperimentStatus
from routing_agent.config.targeting import normalise_conditions
from routing_agent.control.identity import (
    IDENTITY_ENV,
    cli_actor,
    describe_segment,
    environment_identity,
    watch_actor,
)
from routing_agent.errors import ExperimentNotFound, StateTransitionError
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.state import ExperimentState
from routing_agent.stores.reviews.base import ReviewStatus, ReviewStore
from routing_agent.stores.reviews.memory import MemoryReviewStore
from routing_agent.stores.reviews.open import review_store_for

_S = ExperimentStatus

TERMINAL: frozenset[ExperimentStatus] = frozenset({_S.ROLLED_BACK, _S.SHIPPED, _S.STOPPED})
"""States ``watch`` stops on: only a person moves an experiment out of them."""

_MAX_ATTEMPTS = 16
_T = TypeVar("_T")


class Action(StrEnum):
    """A requested state change, named by what it does."""

    PAUSE = "pause"
    RESUME = "resume"
    ROLLBACK = "rollback"
    STOP = "stop"
    SHIP = "ship"

    @property
    def target(self) -> ExperimentStatus:
        """The status this action moves the experiment to."""
        return _TARGET[self]


_TARGET: dict[Action, ExperimentStatus] = {
    Action.PAUSE: _S.PAUSED,
    Action.RESUME: _S.RUNNING,
    Action.ROLLBACK: _S.ROLLED_BACK,
    Action.STOP: _S.STOPPED,
    Action.SHIP: _S.SHIPPED,
}

ALLOWED: dict[ExperimentStatus, frozenset[Action]] = {
    _S.RUNNING: frozenset({Action.PAUSE, Action.ROLLBACK, Action.STOP, Action.SHIP}),
    _S.PAUSED: frozenset({Action.RESUME, Action.ROLLBACK, Action.STOP, Action.SHIP}),
    _S.SHIPPED: frozenset({Action.ROLLBACK, Action.STOP}),
    _S.ROLLED_BACK: frozenset({Action.RESUME, Action.STOP}),
    _S.STOPPED: frozenset({Action.RESUME}),
}

_HOW_TO_LEAVE = {
    _S.SHIPPED: "roll it back (everyone on control) or stop it",
    _S.ROLLED_BACK: "resume it explicitly with a reason (routing-agent resume …) to test again",
    _S.STOPPED: "resume it explicitly with a reason to test again",
    _S.RUNNING: "",
    _S.PAUSED: "",
}


def _carried(current: ExperimentState, action: Action, evidence: dict[str, Any] | None) -> dict[str, Any]:
    """A pause/resume keeps the ramp step in force (the step lives in the state's evidence)."""
    out = dict(evidence or {})
    if action in {Action.PAUSE, Action.RESUME} and RAMP_STEP in current.evidence:
        out.setdefault(RAMP_STEP, current.evidence[RAMP_STEP])
    return out


@dataclass(frozen=True)
class StateChange:
    """The outcome of one ``Rollout.apply``: the state now held, and whether this call wrote it."""

    experiment: str
    action: Action
    applied: bool  # False: the experiment already was in the target state (nothing written)
    state: ExperimentState  # the live state after the call
    previous: ExperimentState  # the state the change was applied to (or found, for a no-op)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "experiment": self.experiment,
            "action": self.action.value,
            "applied": self.applied,
            "state": self.state.to_json(),
            "previous": self.previous.to_json(),
        }


class Rollout:
    """Applies audited state changes to one experiment in a shared ``AssignmentStore``.

    Args:
        store: the store every worker's routing node reads.
        experiment: the experiment's spec (preferred: gives its YAML status and variant names) or its id.
            With an id only, an experiment the store has never seen (no state, history or assignments)
            raises ``ExperimentNotFound`` — unless ``known`` says it exists (e.g. it has review items).
        known: with an id only, treat an experiment the store has never seen as ``running``.
        review_required: shipping needs an approved review (default: the spec's ``review: required``;
            with an id only, required when the review store holds any item of the experiment).
        reviews: the review store approvals are read from (default: the one beside ``store``).
    """

    def __init__(
        self,
        store: AssignmentStore,
        experiment: ExperimentSpec | str,
        *,
        known: bool = False,
        review_required: bool | None = None,
        reviews: ReviewStore | None = None,
    ) -> None:
        self.store = store
        self.known = known
        self.spec = experiment if isinstance(experiment, ExperimentSpec) else None
        self.review_required = review_required
        self.reviews = reviews
        self.experiment = experiment.id if isinstance(experiment, ExperimentSpec) else experiment
        if not self.experiment:
            raise ValueError("experiment id must be a non-empty string")

    def __repr__(self) -> str:
        return f"Rollout({self.experiment!r}, {self.store!r})"

    # -- reading -------------------------------------------------------------------------------------

    def current(self) -> ExperimentState:
        """The live state; version 0 with the YAML's status (``running`` without a spec) when never set."""
        state = self.store.get_state(self.experiment)
        if state is not None:
            return state
        if self.spec is not None:
            return ExperimentState(experiment=self.experiment, status=self.spec.status, actor="config")
        if self.known or self.store.history(self.experiment) or self.store.counts(self.experiment):
            return ExperimentState(experiment=self.experiment, status=_S.RUNNING, actor="config")
        raise ExperimentNotFound(
            f"experiment '{self.experiment}' is unknown to {self.store!r}: it has no state, history or "
            "assignments there. Check the experiment id and the store URL, or pass --config with the "
            "experiment's YAML to act on an experiment that has not served traffic yet."
        )

    def history(self) -> list[ExperimentState]:
        """Every recorded change, oldest first."""
        return self.store.history(self.experiment)

    # -- actions -------------------------------------------------------------------------------------

    def pause(self, *, actor: str, reason: str, evidence: dict[str, Any] | None = None) -> StateChange:
        """Stop enrolling new units; units already assigned keep their variant."""
        return self.apply(Action.PAUSE, actor=actor, reason=reason, evidence=evidence)

    def resume(self, *, actor: str, reason: str, evidence: dict[str, Any] | None = None) -> StateChange:
        """Back to ``running`` (from paused, or explicitly from rolled back / stopped)."""
        return self.apply(Action.RESUME, actor=actor, reason=reason, evidence=evidence)

    def rollback(self, *, actor: str, reason: str, evidence: dict[str, Any] | None = None) -> StateChange:
        """Send every unit to control. Idempotent; never waits for review."""
        return self.apply(Action.ROLLBACK, actor=actor, reason=reason, evidence=evidence)

    def stop(self, *, actor: str, reason: str, evidence: dict[str, Any] | None = None) -> StateChange:
        """End the experiment: nobody is enrolled, every agent uses its default model."""
        return self.apply(Action.STOP, actor=actor, reason=reason, evidence=evidence)

    def ship(
        self,
        winner: str,
        *,
        actor: str,
        reason: str,
        evidence: dict[str, Any] | None = None,
        expected_version: int | None = None,
        review: str | None = None,
        segment: Mapping[str, Any] | None = None,
    ) -> StateChange:
        """Send every unit to ``winner`` — or, with ``segment`` ({"category": "easy"} or lists of values),
        only the units whose attributes match, the others to control (a segment-level ship). With ``review:
        required``, ``review`` names the approved review item.

        The segment lands in the live state (``evidence["ship_segment"]``), so every worker follows it and
        the history records it; the match is evaluated at ``routed_model`` time (see ``assignment.assigner``).
        """
        merged = dict(evidence or {})
        if segment:
            merged[SHIP_SEGMENT] = {k: list(v) for k, v in normalise_conditions(segment).items()}
        return self.apply(
            Action.SHIP,
            actor=actor,
            reason=reason,
            winner=winner,
            evidence=merged,
            expected_version=expected_version,
            review=review,
        )

    def apply(
        self,
        action: Action | str,
        *,
        actor: str,
        reason: str,
        winner: str | None = None,
        evidence: dict[str, Any] | None = None,
        expected_version: int | None = None,
        review: str | None = None,
    ) -> StateChange:
        """Apply ``action`` exactly once across every process sharing the store.

        With ``expected_version`` the change applies only if the state is still at that version (a no-op
        when it already is the target); otherwise it retries on concurrent changes, re-checking the rules.
        Raises ``StateTransitionError`` when the current state does not allow the action,
        ``ExperimentNotFound`` for an unknown experiment, ``StoreUnavailable`` when the store fails.
        """
        action = Action(action)
        self._check_arguments(action, actor, reason, winner)
        if action is Action.SHIP:
            self._check_review(winner, review)
        evidence = {**(evidence or {}), "identity": environment_identity()}
        if review is not None:
            evidence["review"] = review
        for _ in range(_MAX_ATTEMPTS):
            current = self.current()
            if self._is_noop(action, current, winner, evidence):
                return StateChange(self.experiment, action, False, current, current)
            self._check_allowed(action, current, winner)
            if expected_version is not None and current.version != expected_version:
                raise StateTransitionError(
                    f"experiment '{self.experiment}' changed since version {expected_version} (now "
                    f"{current.status.value} at version {current.version}, by {current.actor or 'unknown'}); "
                    f"re-read the state before trying to {action.value} again"
                )
            try:
                state = self.store.set_state(
                    self.experiment,
                    action.target,
                    actor=actor,
                    reason=reason,
                    winner=winner if action is Action.SHIP else None,
                    evidence=_carried(current, action, evidence),
                    expected_version=current.version,
                )
            except StateTransitionError:
                # Normally another writer changed the state between our read and write: re-read and decide
                # again (the next round reports a no-op, a refusal, or retries). Anything else is raised.
                if self._version() == current.version:
                    raise
                continue
            return StateChange(self.experiment, action, True, state, current)
        raise StateTransitionError(
            f"experiment '{self.experiment}': gave up after {_MAX_ATTEMPTS} concurrent changes; retry"
        )

    def _version(self) -> int:
        state = self.store.get_state(self.experiment)
        return state.version if state is not None else 0

    # -- rules ---------------------------------------------------------------------------------------

    def _check_arguments(self, action: Action, actor: str, reason: str, winner: str | None) -> None:
        if not actor or not actor.strip():
            raise ValueError("every state change needs an actor (who or what makes it)")
        if not reason or not reason.strip():
            raise ValueError(f"{action.value} needs a reason: it is recorded in the experiment's history")
        if action is Action.SHIP:
            if not winner:
                raise StateTransitionError(
                    f"experiment '{self.experiment}': shipping needs a winner variant (pass winner=...)"
                )
            if self.spec is not None and winner not in {v.name for v in self.spec.variants}:
                names = ", ".join(v.name for v in self.spec.variants)
                raise StateTransitionError(
                    f"experiment '{self.experiment}' has no variant '{winner}' to ship (variants: {names})"
                )
        elif winner is not None:
            raise ValueError(f"winner is only meaningful when shipping, not for {action.value}")

    def _requires_review(self) -> bool:
        if self.review_required is not None:
            return self.review_required
        if self.spec is not None:
            return self.spec.review == "required"
        try:
            return bool(self._read_reviews(lambda r: r.items(self.experiment)))
        except TypeError:  # a store without a review store beside it: nothing can have been reviewed
            return False

    def _read_reviews(self, read: Callable[[ReviewStore], _T]) -> _T:
        if self.reviews is not None:
            return read(self.reviews)
        reviews = review_store_for(self.store)
        try:
            return read(reviews)
        finally:
            if not isinstance(reviews, MemoryReviewStore):  # the memory queue is shared: closing empties it
                reviews.close()

    def _check_review(self, winner: str | None, review: str | None) -> None:
        """Refuse a ship of a ``review: required`` experiment without an approved review of that winner."""
        if not self._requires_review():
            return
        how = "queue it for review and approve it (routing-agent review approve <id>, or ReviewQueue.approve)"
        if review is None:
            raise StateTransitionError(
                f"experiment '{self.experiment}' has review: required: shipping '{winner}' needs an approved "
                f"review; {how}"
            )
        item = self._read_reviews(lambda r: r.get(review))
        if item is None or item.experiment != self.experiment or item.winner != winner:
            raise StateTransitionError(
                f"experiment '{self.experiment}': review '{review}' is not a review of shipping '{winner}' "
                f"in this experiment; {how}"
            )
        if item.status is not ReviewStatus.APPROVED:
            raise StateTransitionError(
                f"experiment '{self.experiment}': review '{review}' is {item.status.value}, "
                f"not approved; {how}"
            )

    @staticmethod
    def _is_noop(
        action: Action, current: ExperimentState, winner: str | None, evidence: dict[str, Any] | None = None
    ) -> bool:
        if current.status is not action.target:
            return False
        if action is not Action.SHIP:
            return True
        wanted = (evidence or {}).get(SHIP_SEGMENT) or {}
        return current.winner == winner and (current.evidence.get(SHIP_SEGMENT) or {}) == wanted

    def _check_allowed(self, action: Action, current: ExperimentState, winner: str | None) -> None:
        if action in ALLOWED[current.status]:
            return
        where = f"experiment '{self.experiment}' is {current.status.value}"
        if current.status is _S.SHIPPED and action is Action.SHIP:
            where += f" with winner '{current.winner}'"
            if current.evidence.get(SHIP_SEGMENT):
                where += f" for {describe_segment(current.evidence[SHIP_SEGMENT])}"
        since = f" (version {current.version}, by {current.actor or 'unknown'}"
        since += f": {current.reason})" if current.reason else ")"
        hint = _HOW_TO_LEAVE[current.status]
        raise StateTransitionError(
            f"cannot {action.value} {'to ' + repr(winner) + ' ' if winner else ''}— {where}{since}"
            + (f"; {hint}" if hint else "")
        )
