"""``routing-agent demo --scenario worked-example``: the article's worked example, end to end offline.

"Support team runs Claude Sonnet. Considers Haiku to cut costs." The scenario runs, on simulated models:

1. **The experiment** (``configs/scenarios/worked-example.yaml``): per-session split, primary = resolution,
   guardrails p95 latency ≤ 1.3×, refusal ≤ 2×, cost not up; the classifier rates each ticket easy or
   complex and that output is the segment. Observations recorded, evaluated: the decision.
2. **The review**: a segmentation decision ("cheaper, not shown worse overall — but worse on complex") is
   queued for review and a reviewer approves it: the candidate ships to the segments where it is not worse
   (easy tickets) only; complex tickets stay on the control (a segment-level ship in the live state).
3. **After the ship**: more sessions on the same store. Easy tickets are served by the cheap model, complex
   ones by the strong one — read from each call's trace (agent, model, cost), not assumed.
4. **The report** (``worked-example.md``): the decision, the per-segment outcomes of the experiment, the
   models serving each segment after the ship, resolution per segment after the ship, and the realised
   cost reduction per session against the all-control cost.
"""

from __future__ import annotations

__all__ = ["SCENARIO_CONFIG", "WorkedExample", "run_worked_example"]

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from routing_agent.simulation.demo import RunSettings, SimulationRun, simulate

if TYPE_CHECKING:
    from routing_agent.evaluation.analysis import Evaluation
    from routing_agent.evaluation.decision import Decision

SCENARIO_CONFIG = "scenarios/worked-example.yaml"
"""In its own folder: validating ``configs/`` as one deployment must not see two experiments on one agent."""
SEGMENT = "complexity"
DEFAULT_SESSIONS = 20_000
"""~8,000 per arm (~2,400 complex tickets each): planned so that both readings the scenario needs hold for
≥ 95 % of seeds — the overall non-inferiority at 3 points and the complex segment's loss after Holm (see
``configs/scenarios/worked-example.yaml``)."""
AFTER_SESSIONS = 2_000
CONVERSATION = "gen_ai.conversation.id"
"""Span attribute naming the session on every call (routed or not)."""


@dataclass
class WorkedExample:
    """What the scenario produced: both runs, the decision and review, and the measured outcome."""

    experiment: SimulationRun
    after: SimulationRun | None
    decision: dict[str, Any]
    review: dict[str, Any] | None
    models: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    """After the ship: segment value → agent → model id → calls."""
    resolution_after: dict[str, float] = field(default_factory=dict)
    cost_before: float | None = None
    """Mean cost per session of the routed agents' calls (drafter, resolver) in the control arm: everyone on
    control — summed from the calls' recorded costs (``routing_agent.cost_usd`` on each chat span)."""
    cost_after: float | None = None
    """Mean cost per session of the routed agents' calls after the segment-level ship (every session)."""
    session_cost_before: float | None = None
    """Mean cost of a whole control-arm session: every call of it (classifier and retriever too), grouped by
    the spans' ``gen_ai.conversation.id``."""
    session_cost_after: float | None = None
    """Mean cost of a whole session after the ship."""
    report: Path | None = None

    @property
    def cost_reduction(self) -> float | None:
        """1 - after/before: the realised cost reduction per session on the routed agents."""
        return _reduction(self.cost_before, self.cost_after)

    @property
    def session_cost_reduction(self) -> float | None:
        """1 - after/before on whole sessions (every agent's calls)."""
        return _reduction(self.session_cost_before, self.session_cost_after)


def _reduction(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before <= 0:
        return None
    return 1.0 - after / before


def _sessions(workdir: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in (workdir / "outcomes.jsonl").read_text().splitlines() if line]
    return {r["session_id"]: r for r in rows}


def _calls(workdir: Path, *, routed: bool = True) -> list[dict[str, Any]]:
    """Chat-call span attributes from the run's ``traces.jsonl``: the routed agents' calls (they carry the
    unit id), or with ``routed=False`` every call of every session (grouped by conversation id)."""
    key = "routing_agent.unit_id" if routed else "gen_ai.conversation.id"
    out = []
    with (workdir / "traces.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            attrs = json.loads(line).get("attributes") or {}
            if attrs.get("gen_ai.operation.name") == "chat" and attrs.get(key):
                out.append(attrs)
    return out


def _cost_per_session(calls: list[dict[str, Any]], key: str = "routing_agent.unit_id") -> dict[str, float]:
    """Session id → the sum of its calls' recorded costs (the price of the tokens each call really used)."""
    cost: dict[str, float] = defaultdict(float)
    for attrs in calls:
        cost[str(attrs[key])] += float(attrs.get("routing_agent.cost_usd") or 0.0)
    return cost


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def run_worked_example(
    settings: RunSettings | None = None,
    *,
    after_sessions: int = AFTER_SESSIONS,
    reviewer: str = "support-lead",
    console: Console | None = None,
) -> WorkedExample:
    """Run the scenario (see the module docstring) in ``settings.workdir``; print and write the report."""
    from routing_agent.config.loader import load_experiments
    from routing_agent.evaluation.decision import DecisionKind
    from routing_agent.workflows.base import shipped_config

    console = console or Console()
    settings = settings or RunSettings(
        sessions=DEFAULT_SESSIONS, workdir=Path("routing-agent-worked-example")
    )
    path = shipped_config(SCENARIO_CONFIG)
    config = load_experiments(path)
    (spec,) = config.experiments
    workdir = settings.workdir
    store_path = str(workdir / "assignments.sqlite3")
    console.print(
        f"[bold]worked example[/]: {settings.sessions} support sessions, "
        f"{spec.control.name} vs {spec.variants[1].name}, segment '{SEGMENT}' from the classifier",
        soft_wrap=True,
    )
    first = replace(
        settings,
        fresh=True,
        trace=True,
        decide=True,
        record=True,
        store=None,
        run_id=settings.run_id or "exp",
    )
    experiment = simulate(path, first, workflow="support", console=console)
    evaluation = experiment.evaluations[spec.id]
    decision = evaluation.decision
    result = WorkedExample(experiment, None, decision.to_json(), None)
    per_arm = _cost_per_session([c for c in _calls(workdir) if c.get("routing_agent.variant")])
    control_ids = {
        sid
        for sid, row in _sessions(workdir).items()
        if (row["assignments"].get(spec.id) or {}).get("variant") == spec.control.name
    }
    result.cost_before = _mean([per_arm[s] for s in control_ids if s in per_arm])
    whole = _cost_per_session(_calls(workdir, routed=False), CONVERSATION)
    result.session_cost_before = _mean([whole[s] for s in control_ids if s in whole])
    if decision.kind is DecisionKind.SEGMENTATION and decision.evidence.get("ship_segment"):
        after = replace(
            first, sessions=after_sessions, workdir=workdir / "after-ship", store=store_path, decide=False,
            fresh=False, run_id="shipped", seed=settings.seed + 1,
        )  # fmt: skip
        ship_and_run_after(result, decision, path, after, reviewer=reviewer, console=console)
    result.report = workdir / "worked-example.md"
    text = render(result, evaluation)
    result.report.write_text(text, encoding="utf-8")
    console.print(text, markup=False, soft_wrap=True)
    console.print(f"worked example report: [cyan]{result.report}[/]")
    return result


def ship_and_run_after(
    result: WorkedExample,
    decision: Decision,
    path: Path,
    after: RunSettings,
    *,
    reviewer: str,
    console: Console,
) -> None:
    """Queue the segmentation decision for review, approve it, run ``after`` on the same store, read it."""
    from routing_agent.config.loader import load_experiments
    from routing_agent.control.review import ReviewQueue
    from routing_agent.stores.assignments import open_store

    config = load_experiments(path)
    (spec,) = config.experiments
    assert after.store is not None
    store = open_store(after.store)
    try:
        queue = ReviewQueue(store, config=config)
        item, _ = queue.request(spec, decision, actor="routing-agent evaluate")
        outcome = queue.approve(
            item.id, reviewer=reviewer, note="ship the cheap model to the segments where it is not worse"
        )
        result.review = {
            "id": item.id, "reviewer": reviewer, "winner": decision.winner,
            "segment": decision.evidence["ship_segment"], **outcome.to_json(),
        }  # fmt: skip
    finally:
        store.close()
    result.after = simulate(path, after, workflow="support", console=console)
    _read_after(result, spec.id, after.workdir)


def _read_after(result: WorkedExample, experiment: str, workdir: Path) -> None:
    sessions = _sessions(workdir)
    calls = _calls(workdir)
    models: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for attrs in calls:
        row = sessions.get(str(attrs["routing_agent.unit_id"]))
        if row is None or attrs.get("routing_agent.experiment") != experiment:
            continue
        value = str(row["outcome"].get(SEGMENT) or "unknown")
        models[value][str(attrs.get("routing_agent.agent"))][str(attrs.get("routing_agent.model_id"))] += 1
    result.models = {v: {a: dict(c) for a, c in agents.items()} for v, agents in models.items()}
    resolved: dict[str, list[float]] = defaultdict(list)
    for row in sessions.values():
        value = str(row["outcome"].get(SEGMENT) or "unknown")
        resolved[value].append(float(row["outcome"].get("resolved") or 0.0))
    result.resolution_after = {v: sum(xs) / len(xs) for v, xs in resolved.items() if xs}
    result.cost_after = _mean(list(_cost_per_session(calls).values()))
    whole = _cost_per_session(_calls(workdir, routed=False), CONVERSATION)
    result.session_cost_after = _mean([whole[s] for s in sessions if s in whole])


def render(result: WorkedExample, evaluation: Evaluation) -> str:
    """The scenario's Markdown report."""
    d = result.decision
    lines = ["# The worked example, end to end", "", f"**Decision** ({d['kind']}): {d['summary']}", ""]
    lines += ["## Per-segment outcomes of the experiment (resolution)", ""]
    lines += ["| segment | control | candidate | effect | 95% CI | worse |", "|---|---|---|---|---|---|"]
    for report in evaluation.segments:
        if report.key != SEGMENT:
            continue
        for s in report.analysis.segments:
            r = s.result
            lines.append(
                f"| {SEGMENT}={s.value} (n {r.control_n}/{r.treatment_n}) | {r.control_mean:.3f} "
                f"| {r.treatment_mean:.3f} | {r.absolute_effect:+.3f} | [{r.ci_low:+.3f}, {r.ci_high:+.3f}] "
                f"| {'yes' if s.worse else 'no'} |"
            )
    if result.review is None:
        lines += ["", "No segment-level ship: the decision was not a segmentation with segments to ship."]
        return "\n".join(lines) + "\n"
    review = result.review
    where = ", ".join(f"{k} in {sorted(v)}" for k, v in review["segment"].items())
    lines += ["", f"**Review** {review['id']}: approved by {review['reviewer']}: {review['winner']} ships to"]
    lines[-1] += f" {where} only; every other unit stays on control (live state, audit trail recorded)."
    lines += ["", "## After the ship: who serves each segment (calls per model, from the traces)", ""]
    for value, agents in sorted(result.models.items()):
        served = "; ".join(
            f"{agent}: " + ", ".join(f"{m} {n}" for m, n in sorted(models.items()))
            for agent, models in sorted(agents.items())
        )
        rate = result.resolution_after.get(value)
        lines.append(
            f"* {SEGMENT}={value}: {served}" + (f" — resolution {rate:.3f}" if rate is not None else "")
        )
    if result.cost_reduction is not None:
        assert result.cost_before is not None and result.cost_after is not None
        lines += [
            "",
            f"**Realised cost reduction**: {result.cost_reduction:.0%} per session on the routed agents "
            f"(${result.cost_after:.5f} after the ship vs ${result.cost_before:.5f} with everyone on "
            "control).",
        ]
    if result.session_cost_reduction is not None:
        assert result.session_cost_before is not None and result.session_cost_after is not None
        lines += [
            "",
            f"**Realised cost reduction per whole session**: {result.session_cost_reduction:.0%} "
            f"(${result.session_cost_after:.5f} vs ${result.session_cost_before:.5f}; every agent's calls, "
            "the classifier and retriever staying on the strong model).",
            "",
            "Costs are the sums of the calls' recorded costs (each chat span's `routing_agent.cost_usd`: the "
            "tokens the call really used at its model's price), not price tables times assumed tokens.",
        ]
    return "\n".join(lines) + "\n"
