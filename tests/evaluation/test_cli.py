"""``routing-agent evaluate`` / ``report`` through typer's CliRunner, on SQLite files and a real Redis, and
every way they can fail: a clear message and exit 2, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.evaluation import validate_report
from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations.open import open_observation_store
from tests.evaluation.support import arm
from tests.support.redis_server import free_port

runner = CliRunner()

YAML = """\
version: 1
default_model: {model: "simulated:strong-expensive"}
experiments:
  - id: exp
    scope: [drafter]
    variants:
      - {name: control, model: "simulated:strong-expensive", control: true}
      - {name: candidate, model: "simulated:fast-cheap"}
    primary_metric: {name: resolved, kind: binary, mde: 0.03, baseline: 0.87}
    guardrails:
      - {metric: latency_s, statistic: p95, max_ratio_to_control: 1.3}
      - {metric: cost_usd, max_ratio_to_control: 1.0}
  - id: empty
    scope: [resolver]
    variants:
      - {name: control, model: "simulated:strong-expensive", control: true}
      - {name: candidate, model: "simulated:fast-cheap"}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(params=["sqlite", "redis"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(assignment store URL, observation store URL) holding a finished 2,000-unit-per-arm experiment."""
    if request.param == "sqlite":
        store_url, obs_url = str(tmp_path / "assignments.sqlite3"), f"sqlite:///{tmp_path / 'obs.sqlite3'}"
    else:
        base, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        store_url = obs_url = f"{base}?prefix={prefix}"
    # Seeding is not under test: a control-plane timeout, not the routing path's 50 ms (a loaded CI box).
    store, obs = open_store(store_url, timeout_s=2.0), open_observation_store(obs_url)
    for variant, seed, rate, cost in (("control", 1, 0.87, 0.04), ("candidate", 2, 0.91, 0.01)):
        for i in range(2000):
            store.get_or_set("exp", f"{variant}-{i}", variant)
        rows = arm(variant, 2000, seed=seed, rate=rate, cost=cost, calls=2)
        for start in range(0, len(rows), 2000):  # batches the size the buffered writer sends
            obs.add(rows[start : start + 2000])
    store.close()
    obs.close()
    yield store_url, obs_url


def test_evaluate_prints_the_decision_and_json_follows_the_schema(
    tmp_path: Path, urls: tuple[str, str]
) -> None:
    config = tmp_path / "exp.yaml"
    config.write_text(YAML)
    store, obs = urls
    code, out, err = run("evaluate", "-c", str(config), "--store", store, "--observations", obs, "-e", "exp")
    assert code == 0, err
    assert out.startswith("SHIP  Ship candidate: it wins") and "1. guardrails:" in out and "verdict" in out
    code, out, _ = run(
        "evaluate", "-c", str(config), "--store", store, "--observations", obs, "-e", "exp", "--json"
    )
    data = json.loads(out)
    validate_report(data)
    assert data["decision"]["kind"] == "ship" and data["arms"][0]["units_assigned"] == 2000


def test_report_writes_every_format(tmp_path: Path, urls: tuple[str, str]) -> None:
    config = tmp_path / "exp.yaml"
    config.write_text(YAML)
    store, obs = urls
    for fmt in ("md", "html", "json"):
        out_path = tmp_path / "out" / f"report.{fmt}"
        code, _, err = run(
            "report", "-c", str(config), "--store", store, "--observations", obs, "-e", "exp", "--out",
            str(out_path),
        )  # fmt: skip
        assert code == 0, err
        assert "SHIP report written to" in err and out_path.exists()
    validate_report(json.loads((tmp_path / "out" / "report.json").read_text()))
    assert (tmp_path / "out" / "report.md").read_text().startswith("# exp: SHIP → candidate")
    code, _, err = run(
        "report", "-c", str(config), "--store", store, "--observations", obs, "-e", "exp", "--format", "md",
        "--out", str(tmp_path / "r.txt"),
    )  # fmt: skip
    assert code == 0 and (tmp_path / "r.txt").read_text().startswith("# exp")


def test_errors_say_what_is_wrong_and_exit_2(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    config = tmp_path / "exp.yaml"
    config.write_text(YAML)
    db = tmp_path / "assignments.sqlite3"
    open_store(str(db)).close()
    cases = [
        (["evaluate", "-c", str(tmp_path / "nope.yaml"), "--store", str(db)], "invalid config"),
        (["evaluate", "-c", str(config), "--store", str(db), "-e", "nope"], "no experiment 'nope'"),
        (["evaluate", "-c", str(config), "--store", str(db)], "pick one with --experiment"),
        (["evaluate", "-c", str(config), "--store", str(tmp_path / "missing.db"), "-e", "exp"],
         "no assignment store at"),
        (["evaluate", "-c", str(config), "--store", f"redis://127.0.0.1:{free_port()}/0", "-e", "exp"],
         "cannot use the store"),
        (["evaluate", "-c", str(config), "--store", "ftp://x", "-e", "exp"], "unknown"),
        (["evaluate", "-c", str(config), "--store", str(db), "-e", "empty"], "has no assignments in"),
        (["evaluate", "-c", str(config), "--store", f"{redis_url}?prefix={redis_prefix}", "-e", "exp"],
         "has no assignments in"),
        (["report", "-c", str(config), "--store", str(db), "-e", "exp"], "report needs --out"),
        (["report", "-c", str(config), "--store", str(db), "-e", "exp", "--out", str(tmp_path / "r.pdf")],
         "--format must be md, html or json"),
    ]  # fmt: skip
    for args, message in cases:
        code, out, err = run(*args)
        assert code == 2, (args, code, out, err)
        assert message in err, (args, err)
        assert "Traceback" not in out + err


def test_watch_uses_the_built_in_evaluator_by_default(tmp_path: Path) -> None:
    """``routing-agent watch`` without ``--evaluator`` runs this evaluator (SRM from the assignment store)."""
    config = tmp_path / "exp.yaml"
    config.write_text(YAML)
    store, obs_url = str(tmp_path / "assignments.sqlite3"), f"sqlite:///{tmp_path / 'obs.sqlite3'}"
    assignments, obs = open_store(store), open_observation_store(obs_url)
    for variant, seed, latency in (("control", 1, 1.0), ("candidate", 2, 2.5)):
        for i in range(400):
            assignments.get_or_set("exp", f"{variant}-{i}", variant)
        obs.add(arm(variant, 400, seed=seed, latency=latency, calls=3))
    assignments.close()
    obs.close()
    code, out, err = run("watch", "-c", str(config), "--store", store, "--observations", obs_url, "-e", "exp",
                         "--once")  # fmt: skip
    assert code == 0, err
    assert "rollback" in out and "rolled_back" in out
    assert "p95 latency_s is" in out and "(bound ≤ 1.3×;" in out
