"""Progressive ramps: ``watch`` widens a candidate's exposure step by step while every guardrail holds.

An experiment with ``ramp: {steps: [5, 20, 50]}`` starts with 5 % of units on the candidate(s). On each
``watch`` tick (the guarded-rollout pattern of GrowthBook Safe Rollouts / LaunchDarkly guarded rollouts):

* a guardrail breached with enough sample → the usual rollback (everyone on control), at any step;
* else, when every guardrail has enough data and holds **and** every arm gained ``min_units_per_arm`` units
  since the step began → the next step, written into the live state (``evidence["ramp_step"]``, with the
  arms' counts at the step's start) by compare-and-set, so every worker's routing node widens enrolment;
* else nothing changes; ship proposals wait until the last step.

A step widens the *coverage* (the arms keep their configured split): GrowthBook ranges only grow with
coverage, and assigned units are sticky in the store, so no unit already assigned ever changes variant.
"""

from __future__ import annotations

__all__ = ["RampCheck", "advance_ramp", "check_ramp"]

from collections.abc import Mapping
from dataclasses import dataclass

from routing_agent.assignment.assigner import RAMP_STEP, ramp_step
from routing_agent.config.spec import ExperimentSpec, ExperimentStatus
from routing_agent.evaluation.decision import Decision
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.state import ExperimentState

RAMP_COUNTS = "ramp_counts"
"""The live state's evidence key: units per arm when the current step began."""


@dataclass(frozen=True)
class RampCheck:
    """Whether the ramp may advance now, and why (one sentence)."""

    step: int
    percent: float
    last: bool  # at the last step: nothing left to advance
    ready: bool
    message: str


def check_ramp(
    spec: ExperimentSpec, state: ExperimentState, decision: Decision, counts: Mapping[str, int]
) -> RampCheck:
    """May the ramp of ``spec`` advance, given the live ``state``, a fresh ``decision`` and unit counts?"""
    assert spec.ramp is not None
    steps = spec.ramp.steps
    step = min(ramp_step(state), len(steps) - 1)
    percent = steps[step]
    if step == len(steps) - 1:
        return RampCheck(step, percent, True, False, f"ramp at its last step ({percent:g}%)")
    if not spec.guardrails:
        return RampCheck(step, percent, False, False, "ramp holds: no guardrail declared to guard it")
    short = [g for g in decision.guardrails if g.insufficient]
    breached = [g for g in decision.guardrails if g.breached]
    if breached:
        names = ", ".join(g.bound for g in breached)
        return RampCheck(step, percent, False, False, f"ramp holds at {percent:g}%: {names} beyond its bound")
    if short or not decision.guardrails:
        why = "; ".join(g.why_insufficient() for g in short) or "no guardrail result"
        return RampCheck(step, percent, False, False, f"ramp holds at {percent:g}%: {why}")
    began = state.evidence.get(RAMP_COUNTS) or {}
    need = spec.ramp.min_units_per_arm
    gained = {v.name: int(counts.get(v.name, 0)) - int(began.get(v.name, 0)) for v in spec.variants}
    if min(gained.values()) < need:
        have = ", ".join(f"{k} +{n}" for k, n in gained.items())
        return RampCheck(
            step,
            percent,
            False,
            False,
            f"ramp holds at {percent:g}%: {need} new units per arm needed ({have})",
        )
    return RampCheck(
        step,
        percent,
        False,
        True,
        f"every guardrail holds at {percent:g}%: ramp to {steps[step + 1]:g}% of units on the candidate",
    )


def advance_ramp(
    store: AssignmentStore,
    spec: ExperimentSpec,
    state: ExperimentState,
    check: RampCheck,
    *,
    actor: str,
    decision: Decision,
) -> ExperimentState:
    """Write the next step into the live state (compare-and-set on ``state.version``; raises
    ``StateTransitionError`` when the state moved meanwhile)."""
    evidence = {
        RAMP_STEP: check.step + 1,
        RAMP_COUNTS: dict(store.counts(spec.id)),
        "decision": decision.to_json(),
    }
    return store.set_state(
        spec.id,
        ExperimentStatus.RUNNING if state.status is ExperimentStatus.RUNNING else state.status,
        actor=actor,
        reason=check.message,
        evidence=evidence,
        expected_version=state.version,
    )
