"""Evaluators for ``routing-agent watch --evaluator tests.control.cli_evaluators:<name>`` in the CLI tests.

They read the observation store the command opened and decide from the data, like the real evaluator.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import numpy as np

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.decision import Decision, DecisionKind
from routing_agent.stores.assignments import AssignmentStore
from routing_agent.stores.observations.base import ObservationStore
from tests.control.support import latency_decision


def p95_latency(spec: ExperimentSpec, observations: ObservationStore) -> Decision:
    """The p95 latency guardrail, computed from the per-unit latencies in the store."""
    per_variant: dict[str, list[float]] = defaultdict(list)
    for uv in observations.unit_values(spec.id, "latency_s"):
        per_variant[uv.variant].append(uv.value / uv.n_obs)
    control, test = per_variant.get("control", []), per_variant.get("candidate", [])
    if min(len(control), len(test)) < 2:
        return Decision(spec.id, DecisionKind.KEEP_RUNNING, "not enough data yet")
    return latency_decision(spec, np.array(control), np.array(test))


def broken(spec: ExperimentSpec, observations: ObservationStore) -> Decision:
    """An evaluator that fails, as one whose store times out would."""
    raise TimeoutError("observation store did not answer")


def p95_latency_with_counts(
    spec: ExperimentSpec, obs: ObservationStore, *, assignments: AssignmentStore
) -> Decision:
    """Like ``p95_latency``, and records the assignment store's per-variant counts in the evidence."""
    decision = p95_latency(spec, obs)
    return replace(decision, evidence={**decision.evidence, "assigned": assignments.counts(spec.id)})
