"""Monte Carlo calibration of the decision rules, through ``evaluate()`` itself (issue 12's acceptance table).

    python -m evals.decisions                  # CI size: 300 runs per scenario, 150 per peeking one
    python -m evals.decisions --size full      # 1,000 runs per scenario
    python -m evals.decisions --runs 400 --seed 7
    python -m evals.calibration                # the statistics table, then this one

Each run simulates one experiment with a known truth as per-unit ``Observation`` rows (a 0/1 primary
outcome and a cost per unit; no LLM calls), writes them to a ``MemoryObservationStore`` and calls the public
``evaluate`` — the real decision code — at the planned sample (the plan ``evaluate`` itself reports). A
*move* is a decision that sends traffic to the candidate: ``ship``, or ``no_difference`` / ``segmentation``
naming it. Each row prints the measured rate, its Monte Carlo standard error, the target and whether the
target holds. A ``≤`` target holds when the rate is at most the target plus 3.29 Monte Carlo SEs of the
target (a rate calibrated exactly to a nominal α lands above it half the time); ``≥`` symmetrically; ``= 0``
exactly.
"""

from __future__ import annotations

__all__ = ["DecisionRow", "format_rows", "main", "run"]

import argparse
import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation import DecisionKind, Evaluation, evaluate
from routing_agent.stores.observations import MemoryObservationStore
from routing_agent.stores.observations.observation import Observation

Z999 = 3.29
SIZES = {"ci": (300, 150), "full": (1000, 1000)}
"""Runs per scenario: (read once at the planned n, peeking)."""
EXP = "calibration"
BASE, MDE = 0.8, 0.08  # 0.80 → 0.88 / 0.72: ~200 units per arm keep a run cheap (error rates are scale-free)
PEEK_MDE = 0.06  # the peeking scenarios: ~600 units per arm, so "every 100 units" is several looks


@dataclass(frozen=True)
class DecisionRow:
    """One scenario's measured rate against its target."""

    scenario: str
    measure: str
    hits: int
    runs: int
    target: float
    op: str  # "<=" | ">=" | "=="

    @property
    def value(self) -> float:
        """The measured rate."""
        return self.hits / self.runs if self.runs else 0.0

    @property
    def se(self) -> float:
        """Monte Carlo standard error of the rate."""
        p = self.value
        return math.sqrt(p * (1 - p) / self.runs) if self.runs else 0.0

    @property
    def ok(self) -> bool:
        """Whether the target holds (see the module docstring)."""
        slack = Z999 * math.sqrt(self.target * (1 - self.target) / self.runs)
        if self.op == "==":
            return self.hits == round(self.target * self.runs)
        if self.op == "<=":
            return self.value <= self.target + slack
        return self.value >= self.target - slack


def spec(**primary: Any) -> ExperimentSpec:
    """control vs a 4× cheaper candidate, 50/50, binary primary ``resolved`` (baseline 0.8, MDE 0.08)."""
    metric = {"name": "resolved", "kind": "binary", "mde": MDE, "baseline": BASE, **primary}
    guardrails = metric.pop("guardrails", [])
    return ExperimentSpec.model_validate(
        {
            "id": EXP,
            "variants": [
                {"name": "control", "model": "simulated:strong-expensive", "control": True},
                {"name": "candidate", "model": "simulated:fast-cheap"},
            ],
            "primary_metric": metric,
            "guardrails": guardrails,
        }
    )


def planned(s: ExperimentSpec) -> int:
    """Units per arm of the plan ``evaluate`` reports for this spec (the larger arm)."""
    plan = evaluate(s, observations=MemoryObservationStore()).plan
    assert plan is not None and plan.planned, "the scenario's spec must give a baseline"
    return max(plan.planned.values())


def arm_rows(
    rng: np.random.Generator,
    variant: str,
    n: int,
    rate: float,
    *,
    cost: float,
    lost: float = 0.0,
    start: int = 0,
    exact: bool = False,
) -> list[Observation]:
    """Units ``start … start+n−1`` of one arm: a 0/1 ``resolved`` (absent for a ``lost`` share) and a cost.

    ``exact`` makes the rate exact (``round(rate·n)`` successes) instead of binomial.
    """
    if exact:
        outcome = np.zeros(n)
        outcome[rng.permutation(n)[: round(rate * n)]] = 1.0
    else:
        outcome = (rng.random(n) < rate).astype(float)
    missing = rng.random(n) < lost
    spend = cost * rng.lognormal(0.0, 0.3, n)
    rows: list[Observation] = []
    for i in range(n):
        unit, ts = f"{variant}-{start + i}", 1_000_000.0 + start + i
        if not missing[i]:
            rows.append(Observation(EXP, variant, unit, "resolved", float(outcome[i]), ts=ts))
        rows.append(Observation(EXP, variant, unit, "cost_usd", float(spend[i]), ts=ts))
    return rows


def moved(ev: Evaluation) -> bool:
    """Traffic goes to the candidate."""
    d = ev.decision
    return d.winner == "candidate" and d.kind in (
        DecisionKind.SHIP,
        DecisionKind.NO_DIFFERENCE,
        DecisionKind.SEGMENTATION,
    )


def once(
    rng: np.random.Generator,
    s: ExperimentSpec,
    n: int,
    rates: tuple[float, float],
    *,
    lost: float = 0.0,
    exact_control: bool = False,
) -> Evaluation:
    """One experiment at ``n`` units per arm; the candidate costs a quarter of control's."""
    store = MemoryObservationStore()
    store.add(arm_rows(rng, "control", n, rates[0], cost=0.04, exact=exact_control))
    store.add(arm_rows(rng, "candidate", n, rates[1], cost=0.01, lost=lost))
    return evaluate(s, observations=store, traffic_per_day=1000.0)


def _count(runs: int, trial: Callable[[], Iterable[bool]], measures: int) -> list[int]:
    hits = [0] * measures
    for _ in range(runs):
        for i, hit in enumerate(trial()):
            hits[i] += hit
    return hits


def fixed_rows(rng: np.random.Generator, runs: int) -> list[DecisionRow]:
    """Every scenario read once at the planned sample."""
    rows: list[DecisionRow] = []
    sup = spec(margin=MDE)  # superiority posture; the margin gates the cheaper pick
    n = planned(sup)

    def aa() -> tuple[bool, bool, bool]:
        ev = once(rng, sup, n, (BASE, BASE))
        move = moved(ev)
        return ev.decision.kind is DecisionKind.SHIP, move, move and not ev.primary[0].shown_non_inferior

    ship, move, unshown = _count(runs, aa, 3)
    name = f"A/A, 4x cheaper candidate, margin = MDE, n={n}/arm"
    rows += [
        DecisionRow(name, "P(ship)", ship, runs, 0.025, "<="),
        DecisionRow(name, "P(moved without non-inferiority shown)", unshown, runs, 0.0, "=="),
        DecisionRow(name, "P(picked the cheaper one) [info: NI power]", move, runs, 0.5, ">="),
    ]
    (hit,) = _count(runs, lambda: (moved(once(rng, sup, n, (BASE, BASE - MDE))),), 1)
    rows.append(
        DecisionRow(f"one MDE worse, superiority + margin = MDE, n={n}", "P(moves)", hit, runs, 0.05, "<=")
    )
    ni = spec(test="non_inferiority", margin=MDE / 2)
    n_ni = planned(ni)
    (hit,) = _count(runs, lambda: (moved(once(rng, ni, n_ni, (BASE, BASE - MDE))),), 1)
    rows.append(
        DecisionRow(f"one MDE worse, NI test (margin MDE/2), n={n_ni}", "P(moves)", hit, runs, 0.05, "<=")
    )
    ni = spec(test="non_inferiority", margin=MDE)
    n_ni = planned(ni)
    (hit,) = _count(runs, lambda: (moved(once(rng, ni, n_ni, (BASE, BASE - MDE))),), 1)
    rows.append(
        DecisionRow(f"NI test, candidate exactly at the margin, n={n_ni}", "P(moves)", hit, runs, 0.05, "<=")
    )
    (hit,) = _count(
        runs, lambda: (once(rng, sup, n, (BASE, BASE + MDE)).decision.kind is DecisionKind.SHIP,), 1
    )
    rows.append(DecisionRow(f"+MDE better, n={n}", "P(ship)", hit, runs, 0.78, ">="))
    return rows


def near_one_rows(rng: np.random.Generator, runs: int) -> list[DecisionRow]:
    """Control at 100 % / 99.9 % vs a cheaper candidate at 99 % (margin 0.005)."""
    rows = []
    s = spec(baseline=0.98, mde=0.015, margin=0.005)  # plans ~850 units per arm
    n = planned(s)
    for control in (1.0, 0.999):
        hit = sum(moved(once(rng, s, n, (control, 0.99), exact_control=True)) for _ in range(runs))
        rows.append(
            DecisionRow(
                f"control {100 * control:g}% vs candidate 99%, n={n}", "P(moves)", hit, runs, 0.01, "<="
            )
        )
    return rows


def attrition_rows(rng: np.random.Generator, runs: int) -> list[DecisionRow]:
    """The candidate loses 10 % of its outcomes and is truly 2 pp worse."""
    s = spec(margin=MDE)
    n = planned(s)

    def trial() -> tuple[bool, bool]:
        ev = once(rng, s, n, (BASE, BASE - 0.02), lost=0.10)
        fired = any(c.name == "attrition" and not c.passed for c in ev.checks)
        return moved(ev), fired

    move, fired = _count(runs, trial, 2)
    name = f"candidate loses 10% of outcomes, 2 pp worse, n={n}"
    return [
        DecisionRow(name, "P(moves)", move, runs, 0.01, "<="),
        DecisionRow(name, "P(attrition check fires)", fired, runs, 0.95, ">="),
    ]


def guardrail_rows(rng: np.random.Generator, runs: int) -> list[DecisionRow]:
    """A declared guardrail whose metric never arrives; the candidate is truly +MDE better and cheaper."""
    s = spec(margin=MDE, guardrails=[{"metric": "json_valid", "min": 0.9, "agent": "extractor"}])
    n = planned(s)
    (hit,) = _count(runs, lambda: (moved(once(rng, s, n, (BASE, BASE + MDE))),), 1)
    return [
        DecisionRow(
            f"guardrail never receives data, candidate +MDE, n={n}", "P(ship or move)", hit, runs, 0.0, "=="
        )
    ]


def peeked(
    rng: np.random.Generator,
    s: ExperimentSpec,
    n: int,
    rates: tuple[float, float],
    cost: float,
    batch: int,
) -> bool:
    """One experiment looked at after every ``batch`` units per arm up to ``n``: did traffic ever move?"""
    store, history = MemoryObservationStore(), None
    for start in range(0, n, batch):
        k = min(batch, n - start)
        store.add(arm_rows(rng, "control", k, rates[0], cost=0.04, start=start))
        store.add(arm_rows(rng, "candidate", k, rates[1], cost=cost, start=start))
        history = evaluate(s, observations=store, traffic_per_day=1000.0, history=history)
        if moved(history):
            return True
        if history.decision.kind is DecisionKind.ROLLBACK:
            return False
    return False


def peeking_rows(rng: np.random.Generator, runs: int, batch: int = 100) -> list[DecisionRow]:
    """Look after every ``batch`` units per arm up to the planned n (``history`` chains the looks)."""
    rows = []
    cases = (
        ("A/A, not cheaper: any ship", spec(mde=PEEK_MDE), (BASE, BASE), 0.04),
        ("NI, exactly at the margin: any move",
         spec(test="non_inferiority", mde=PEEK_MDE, margin=PEEK_MDE), (BASE, BASE - PEEK_MDE), 0.01),
    )  # fmt: skip
    for name, s, rates, cost in cases:
        n = planned(s)
        hits = sum(peeked(rng, s, n, rates, cost, batch) for _ in range(runs))
        scenario = f"peeking every {batch}/arm ({math.ceil(n / batch)} looks) to n={n}: {name}"
        rows.append(DecisionRow(scenario, "P(wrong move)", hits, runs, 0.05, "<="))
    return rows


def run(size: str = "ci", runs: int | None = None, seed: int = 20261207) -> list[DecisionRow]:
    """Every scenario with ``runs`` experiments each (default: the size preset)."""
    e, peeks = (runs, runs) if runs is not None else SIZES[size]
    rng = np.random.default_rng(seed)
    return (
        fixed_rows(rng, e)
        + near_one_rows(rng, e)
        + attrition_rows(rng, e)
        + guardrail_rows(rng, e)
        + peeking_rows(rng, peeks)
    )


def format_rows(rows: list[DecisionRow]) -> str:
    """A fixed-width table: scenario, measure, rate ± Monte Carlo SE, target, runs, ok."""
    head = f"{'scenario':78} {'measure':44} {'rate':>7} {'± SE':>7} {'target':>9} {'runs':>5}  ok"
    lines = [head, "-" * len(head)]
    for r in rows:
        target = f"{'≤' if r.op == '<=' else '≥' if r.op == '>=' else '='} {100 * r.target:g}%"
        lines.append(
            f"{r.scenario:78} {r.measure:44} {100 * r.value:6.2f}% {100 * r.se:6.2f}% {target:>9} "
            f"{r.runs:5d}  {'yes' if r.ok else 'NO'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the decision-level calibration table; exit 1 if a target does not hold."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="ci")
    parser.add_argument("--runs", type=int, default=None, help="experiments per scenario")
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    start = time.perf_counter()
    rows = run(args.size, args.runs, args.seed)
    print(format_rows(rows))
    failed = [r for r in rows if not r.ok]
    print(f"\n{len(rows) - len(failed)}/{len(rows)} targets hold in {time.perf_counter() - start:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
