"""``routing-agent demo`` and ``routing-agent simulate`` end to end through the CLI, on SQLite and Redis."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.config.loader import load_experiments
from routing_agent.simulation import RunSettings, simulate
from routing_agent.simulation.demo import workflow_for
from routing_agent.stores.assignments import open_store

runner = CliRunner()


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_demo_runs_support_sessions_on_a_sqlite_store(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--sessions", "120", "--workdir", str(workdir), "--workers", "4"])
    assert result.exit_code == 0, result.output
    rows = _rows(workdir / "outcomes.jsonl")
    assert len(rows) == 120 and {r["workflow"] for r in rows} == {"support"}
    assert all(r["error"] is None for r in rows)
    variants = Counter(r["assignments"]["support-haiku"]["variant"] for r in rows)  # type: ignore[index]
    store = open_store(workdir / "assignments.sqlite3")
    try:
        assert store.counts("support-haiku") == dict(variants)
    finally:
        store.close()
    assert "support-haiku" in result.output and "outcomes.jsonl" in result.output
    assert variants["control"] > variants["candidate"] > 0  # 80/20
    again = runner.invoke(app, ["demo", "--sessions", "120", "--workdir", str(workdir), "--workers", "4"])
    assert again.exit_code == 0

    def by_session(items: list[dict[str, object]]) -> list[dict[str, object]]:
        return sorted(({k: v for k, v in r.items() if k != "duration_s"} for r in items), key=str)

    # a fresh demo with the same seed reproduces every session (rows arrive in completion order)
    assert by_session(_rows(workdir / "outcomes.jsonl")) == by_session(rows)


def test_demo_runs_from_any_directory_with_the_config_shipped_in_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no configs/ or workflows/ here: both come from the installed package
    result = runner.invoke(app, ["demo", "--sessions", "30", "--workers", "4"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "routing-agent-demo"
    assert len(_rows(out / "outcomes.jsonl")) == 30
    for name in ("traces.jsonl", "observations.sqlite3", "report.html", "report.md", "report.json"):
        assert (out / name).stat().st_size > 0, name
    assert "decision" in result.output


def test_simulate_any_workflow_against_redis(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    url = f"{redis_url}?prefix={redis_prefix}"
    args = ["simulate", "--config", "configs/rag.yaml", "--sessions", "60", "--workers", "6"]
    result = runner.invoke(app, [*args, "--store", url, "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = _rows(tmp_path / "outcomes.jsonl")
    assert len(rows) == 60 and {r["workflow"] for r in rows} == {"rag"}
    store = open_store(f"{url}&timeout=10")  # a generous client timeout: the machine may be busy
    try:
        counts = store.counts("rag-answerer")
    finally:
        store.close()
    assert sum(counts.values()) == 60
    assert counts == dict(Counter(r["assignments"]["rag-answerer"]["variant"] for r in rows))  # type: ignore[index]


def test_workflow_is_inferred_from_the_config_and_the_run_is_reported(tmp_path: Path) -> None:
    config_path = Path("configs/invoice.yaml")
    assert workflow_for(load_experiments(config_path), config_path).name == "invoice"
    settings = RunSettings(sessions=20, workers=2, workdir=tmp_path, fresh=True, progress=False)
    run = simulate(config_path, settings)
    assert run.workflow.name == "invoice" and run.summary.sessions == 20
    assert run.stored == {"invoice-extractor": {}}  # unit: request — nothing sticky to store
    assert run.outputs["session outcomes (JSON Lines)"].exists()
    assert run.evaluations == {}  # not decided, but recorded like the demo:
    assert (tmp_path / "traces.jsonl").exists() and (tmp_path / "observations.sqlite3").exists()


def test_simulate_rejects_a_config_it_cannot_place(tmp_path: Path) -> None:
    config = tmp_path / "other.yaml"
    config.write_text(
        "version: 1\nexperiments:\n  - id: x\n    scope: [planner]\n    variants:\n"
        "      - {name: a, model: 'simulated:fast-cheap', control: true}\n"
        "      - {name: b, model: 'simulated:regressed'}\n"
    )
    result = runner.invoke(
        app, ["simulate", "--config", str(config), "--sessions", "5", "--workdir", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "--workflow" in str(result.output) + str(result.exception)
    with pytest.raises(KeyError):
        simulate(config, RunSettings(sessions=1, workdir=tmp_path, progress=False), workflow="nope")
