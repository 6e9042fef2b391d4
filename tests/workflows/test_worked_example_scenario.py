"""``routing-agent demo --scenario worked-example``: the article's worked example end to end, offline.

Checked from the raw artefacts (the report JSON, the live state in the store, every call's trace), not from
the scenario's own summary: the decision is a segmentation, a reviewer's approval ships the cheap model to
easy tickets only, and after the ship every easy ticket's routed agents run on the cheap model and every
complex one's on the strong model, at a realised cost reduction the traces confirm.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.config.loader import load_experiments
from routing_agent.config.spec import ExperimentStatus
from routing_agent.stores.assignments import open_store
from routing_agent.workflows.base import shipped_config

runner = CliRunner()
EXPERIMENT = "support-worked-example"
CHEAP, STRONG = "simulated:haiku", "simulated:strong-expensive"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _costs_and_models(workdir: Path) -> tuple[dict[str, float], dict[str, dict[str, set[str]]]]:
    cost: dict[str, float] = defaultdict(float)
    models: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with (workdir / "traces.jsonl").open() as handle:
        for line in handle:
            attrs = json.loads(line)["attributes"]
            if attrs.get("gen_ai.operation.name") != "chat" or "routing_agent.unit_id" not in attrs:
                continue
            unit = attrs["routing_agent.unit_id"]
            cost[unit] += attrs.get("routing_agent.cost_usd", 0.0)
            models[unit][attrs["routing_agent.agent"]].add(attrs["routing_agent.model_id"])
    return cost, models


def _session_costs(workdir: Path) -> dict[str, float]:
    cost: dict[str, float] = defaultdict(float)
    with (workdir / "traces.jsonl").open() as handle:
        for line in handle:
            attrs = json.loads(line)["attributes"]
            if attrs.get("gen_ai.operation.name") == "chat":
                cost[attrs["gen_ai.conversation.id"]] += attrs.get("routing_agent.cost_usd", 0.0)
    return cost


def test_the_worked_example_runs_end_to_end(tmp_path: Path) -> None:
    spec = load_experiments(shipped_config("scenarios/worked-example.yaml")).experiments[0]
    # the article's test: per-session split, primary resolution, the three guardrails
    assert spec.unit.value == "session" and spec.primary_metric is not None
    assert spec.primary_metric.name == "resolved" and spec.primary_metric.mde == 0.02
    assert {(g.metric, g.statistic, g.max_ratio_to_control) for g in spec.guardrails} == {
        ("latency_s", "p95", 1.3),
        ("refusal", "mean", 2.0),
        ("cost_usd", "mean", 1.0),
    }
    source = spec.segment_sources["complexity"]  # the segment is what the classifier agent produced
    assert (source.agent, source.path) == ("classifier", ("complexity",))
    # a seed the scenario's design was not tuned on (the design holds for >= 95 % of seeds, see
    # benchmarks/worked_example_power.py); the default session count: the design's planned sample
    args = ["demo", "--scenario", "worked-example", "--workdir", str(tmp_path), "--time-scale", "0"]
    args += ["--seed", "7"]
    result = runner.invoke(app, [*args, "--workers", "4", "--after-sessions", "600"])
    assert result.exit_code == 0, result.output

    report = json.loads((tmp_path / "report.json").read_text())
    decision = report["decision"]
    assert decision["kind"] == "segmentation", decision["summary"]
    assert decision["winner"] == "haiku"
    assert decision["evidence"]["ship_segment"] == {"complexity": ["easy"]}
    assert "significantly worse on complexity=complex" in decision["summary"]
    assert "guardrails held (3 of 3)" in decision["summary"]
    per_segment = {s["value"]: s for seg in report["segments"] for s in seg["values"]}
    assert per_segment["complex"]["worse"] and not per_segment["easy"]["worse"]

    store = open_store(tmp_path / "assignments.sqlite3")
    try:
        state = store.get_state(EXPERIMENT)
        history = store.history(EXPERIMENT)
    finally:
        store.close()
    assert state is not None and state.status is ExperimentStatus.SHIPPED and state.winner == "haiku"
    assert state.actor == "support-lead"  # the reviewer, on the audit trail
    assert any(h.status is ExperimentStatus.SHIPPED for h in history)

    after = tmp_path / "after-ship"
    sessions = {r["session_id"]: r for r in _jsonl(after / "outcomes.jsonl")}
    assert len(sessions) == 600
    cost, models = _costs_and_models(after)
    by_segment: dict[str, int] = defaultdict(int)
    for sid, row in sessions.items():
        segment = row["outcome"].get("complexity")
        served = models[sid]
        expected = CHEAP if segment == "easy" else STRONG  # unknown complexity: control
        for agent in ("drafter", "resolver"):
            if agent in served:
                assert served[agent] == {expected}, (sid, segment, agent, served[agent])
        assert set(served) <= {"drafter", "resolver"}  # classifier, retriever: not routed
        by_segment[str(segment)] += 1
    assert by_segment["easy"] > 300 and by_segment["complex"] > 100

    before, _ = _costs_and_models(tmp_path)
    control_ids = [
        s["session_id"]
        for s in _jsonl(tmp_path / "outcomes.jsonl")
        if s["assignments"][EXPERIMENT]["variant"] == "sonnet"
    ]
    control = [before[sid] for sid in control_ids]
    reduction = 1 - (sum(cost.values()) / len(cost)) / (sum(control) / len(control))
    assert 0.3 < reduction < 0.8
    text = (tmp_path / "worked-example.md").read_text()
    assert f"Realised cost reduction**: {reduction:.0%}" in text
    # whole sessions: every call of a session (classifier and retriever too), by its conversation id
    whole_before, whole_after = _session_costs(tmp_path), _session_costs(after)
    sonnet = [whole_before[sid] for sid in control_ids]
    per_session = 1 - (sum(whole_after.values()) / len(whole_after)) / (sum(sonnet) / len(sonnet))
    assert 0.15 < per_session < reduction
    assert f"Realised cost reduction per whole session**: {per_session:.0%}" in text
    assert "complexity=easy" in text and "complexity=complex" in text
