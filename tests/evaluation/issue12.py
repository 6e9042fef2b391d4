"""Data for the issue-12 regression tests: exact per-unit outcomes (``None``: the primary is missing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation import Evaluation, evaluate
from routing_agent.stores.observations import MemoryObservationStore
from routing_agent.stores.observations.observation import Observation

EXP = "exp"


def spec(guardrails: Sequence[dict[str, Any]] = (), **primary: Any) -> ExperimentSpec:
    """control vs a cheaper candidate, 50/50; primary ``resolved`` (binary, baseline 0.85, MDE 0.02)."""
    metric = {"name": "resolved", "kind": "binary", "mde": 0.02, "baseline": 0.85, **primary}
    return ExperimentSpec.model_validate(
        {
            "id": EXP,
            "variants": [
                {"name": "control", "model": "simulated:strong-expensive", "control": True},
                {"name": "candidate", "model": "simulated:fast-cheap"},
            ],
            "primary_metric": metric,
            "guardrails": list(guardrails),
        }
    )


def binary(successes: int, n: int, *, lost_failures: int = 0) -> list[float | None]:
    """``successes`` ones among ``n`` units; ``lost_failures`` of the zeros have no outcome at all."""
    failures = n - successes
    return [1.0] * successes + [None] * lost_failures + [0.0] * (failures - lost_failures)


def rows(
    variant: str,
    outcomes: Sequence[float | None],
    *,
    cost: float | None = 0.04,
    metric: str = "resolved",
    extra: dict[str, float] | None = None,
    agent: str | None = None,
) -> list[Observation]:
    """One arm: the primary per unit (skipped where ``None``), a cost per unit and ``extra`` metrics."""
    out: list[Observation] = []
    for i, value in enumerate(outcomes):
        unit, ts = f"{variant}-{i}", 1_000_000.0 + i
        if value is not None:
            out.append(Observation(EXP, variant, unit, metric, value, agent=agent, ts=ts))
        if cost is not None:
            spend = cost * (1.0 + 0.2 * ((i * 7919) % 11 - 5) / 5)  # deterministic spread around cost
            out.append(Observation(EXP, variant, unit, "cost_usd", spend, ts=ts))
        for name, v in (extra or {}).items():
            out.append(Observation(EXP, variant, unit, name, v, agent=agent, ts=ts))
    return out


def run(s: ExperimentSpec, *arms: list[Observation], **kw: Any) -> Evaluation:
    """``evaluate`` over a fresh memory store holding ``arms``."""
    store = MemoryObservationStore()
    for a in arms:
        store.add(a)
    return evaluate(s, observations=store, traffic_per_day=1000.0, **kw)


def planned(s: ExperimentSpec) -> int:
    """The plan's units per arm (the larger arm)."""
    plan = evaluate(s, observations=MemoryObservationStore()).plan
    assert plan is not None and plan.planned, plan
    return max(plan.planned.values())


def moved(ev: Evaluation) -> bool:
    """Traffic goes to the candidate."""
    return ev.decision.winner == "candidate" and ev.decision.kind.value in ("ship", "no_difference")
