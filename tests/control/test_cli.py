"""The operator's commands through typer's CliRunner, on SQLite and a real Redis, and every error path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.review import ReviewQueue
from routing_agent.control.rollout import Rollout, environment_identity
from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.open import open_observation_store
from tests.control.conftest import Backend
from tests.control.specs import make_spec
from tests.control.support import better_candidate, conversion_decision, slow_candidate
from tests.support.redis_server import free_port

runner = CliRunner()

YAML = """\
version: 1
default_model: {model: "echo:default-model"}
experiments:
  - id: exp
    scope: [drafter]
    variants:
      - {name: control, model: "echo:control-model", control: true}
      - {name: candidate, model: "echo:candidate-model"}
    guardrails:
      - {metric: latency_s, statistic: p95, max_ratio_to_control: 1.3, min_sample: 50}
    review: REVIEW
  - id: later
    status: paused
    scope: [reviewer]
    variants:
      - {name: control, model: "echo:control-model", control: true}
      - {name: candidate, model: "echo:candidate-model"}
"""


def write_config(tmp_path: Path, review: str = "none") -> Path:
    path = tmp_path / f"experiments-{review}.yaml"
    path.write_text(YAML.replace("REVIEW", review))
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_rollback_then_status_shows_state_counts_and_history(shared_backend: Backend) -> None:
    url = shared_backend.url
    for i in range(30):
        shared_backend.store.get_or_set("exp", f"u{i}", "control" if i % 3 else "candidate")
    code, out, err = run(
        "rollback", "--store", url, "-e", "exp", "--reason", "p95 2x control", "--actor", "alice"
    )
    assert code == 0, err
    assert "rollback: exp running → rolled_back" in out and "by alice" in out
    code, out, _ = run("rollback", "--store", url, "-e", "exp", "--reason", "again", "--actor", "bob")
    assert code == 0 and "no change: exp already is rolled_back" in out
    (entry,) = shared_backend.store.history("exp")
    assert (entry.actor, entry.reason, entry.evidence["source"]) == ("alice", "p95 2x control", "cli")
    assert entry.evidence["identity"] == environment_identity()  # who really ran it, beside the claim

    code, out, _ = run("status", "--store", url, "-e", "exp")
    assert code == 0
    assert "rolled_back" in out and "by alice, version 1" in out and "reason: p95 2x control" in out
    assert "control" in out and "20" in out and "candidate" in out and "10" in out
    assert "v1" in out and "alice: p95 2x control" in out
    code, out, _ = run("status", "--store", url, "-e", "exp", "--json")
    data = json.loads(out)
    assert data["state"]["status"] == "rolled_back" and data["units"] == 30
    assert {v["name"]: v["units"] for v in data["variants"]} == {"control": 20, "candidate": 10}
    assert [h["actor"] for h in data["history"]] == ["alice"]


def test_status_from_a_config_shows_every_experiment(tmp_path: Path) -> None:
    store = str(tmp_path / "state.db")
    code, out, err = run("status", "--store", store, "--config", str(write_config(tmp_path)))
    assert code == 0, err
    assert "exp  running  (from the YAML" in out and "later  paused  (from the YAML" in out
    assert re.search(r"control \(control\)\s+0\s+-\s+50%", out)  # configured weight, no units yet
    code, out, _ = run("status", "--store", store, "--config", str(write_config(tmp_path)), "--json")
    assert [d["state"]["status"] for d in json.loads(out)] == ["running", "paused"]


def test_pause_resume_stop_and_an_explicit_resume_after_rollback(tmp_path: Path) -> None:
    store = str(tmp_path / "state.db")
    cfg = str(write_config(tmp_path))
    assert run("pause", "--store", store, "-c", cfg, "-e", "exp", "-r", "investigate")[0] == 0
    assert run("resume", "--store", store, "-c", cfg, "-e", "exp", "-r", "fine")[0] == 0
    assert run("rollback", "--store", store, "-c", cfg, "-e", "exp", "-r", "breach")[0] == 0
    code, _, err = run("pause", "--store", store, "-c", cfg, "-e", "exp", "-r", "x")
    assert code == 1 and "refused: cannot pause" in err and "resume it explicitly" in err
    assert run("resume", "--store", store, "-c", cfg, "-e", "exp", "-r", "fixed latency")[0] == 0
    assert run("stop", "--store", store, "-c", cfg, "-e", "exp", "-r", "done")[0] == 0
    code, out, _ = run("status", "--store", store, "-e", "exp", "--json")
    assert [h["status"] for h in json.loads(out)["history"]] == [
        "paused", "running", "rolled_back", "running", "stopped",
    ]  # fmt: skip


def test_the_review_flow_from_the_command_line(shared_backend: Backend) -> None:
    url = shared_backend.url
    spec = make_spec("exp", review="required")
    queue = ReviewQueue(shared_backend.store, shared_backend.reviews)
    item, _ = queue.request(spec, conversion_decision(spec, *better_candidate()), actor="watch@m1:7")

    code, out, err = run("review", "list", "--store", url)
    assert code == 0, err
    assert item.id in out and "pending" in out and "candidate" in out and "watch@m1:7" in out
    code, out, _ = run("review", "show", item.id, "--store", url)
    assert code == 0 and "ship: candidate" in out and "two-proportion z =" in out
    code, out, _ = run("status", "--store", url, "-e", "exp")
    assert f"review pending: {item.id} ship 'candidate'" in out

    code, out, err = run("review", "approve", item.id, "--store", url, "--actor", "alice", "--note", "lgtm")
    assert code == 0, err
    assert f"approved {item.id} by alice" in out and "ship: exp running → shipped" in out
    state = shared_backend.store.get_state("exp")
    assert state is not None and state.status is S.SHIPPED and state.winner == "candidate"
    assert state.actor == "alice" and "lgtm" in state.reason
    code, out, _ = run("review", "list", "--store", url, "--all", "--json")
    (listed,) = json.loads(out)
    assert listed["status"] == "approved" and listed["reviewer"] == "alice" and listed["note"] == "lgtm"
    assert run("review", "list", "--store", url)[1].strip() == "no review items"


def test_reject_and_stale_reviews_from_the_command_line(tmp_path: Path) -> None:
    store = str(tmp_path / "state.db")
    cfg = ExperimentsConfig(experiments=(make_spec("exp", review="required"), make_spec("other")))
    from routing_agent.stores.assignments import open_store

    s = open_store(store)
    queue = ReviewQueue(s, config=cfg)
    decision = conversion_decision(cfg.get("exp"), *better_candidate())
    first, _ = queue.request(cfg.get("exp"), decision, actor="watch@m1:7")
    code, out, _ = run("review", "reject", first.id, "--store", store, "--actor", "bob", "-n", "judge drift")
    assert code == 0 and f"rejected {first.id} by bob" in out
    assert Rollout(s, cfg.get("exp")).current().status is S.RUNNING
    code, _, err = run("review", "approve", first.id, "--store", store)
    assert code == 1 and "was rejected by bob" in err

    second, _ = queue.request(cfg.get("exp"), decision, actor="watch@m1:7")
    Rollout(s, cfg.get("exp")).rollback(actor="watch@m2:9", reason="p95 breach")
    code, out, _ = run("review", "list", "--store", store)
    assert "(stale)" in out
    code, _, err = run("review", "approve", second.id, "--store", store, "--actor", "alice")
    assert code == 1 and "stale: the experiment was rolled_back" in err and "watch@m2:9" in err
    assert Rollout(s, cfg.get("exp")).current().status is S.ROLLED_BACK

    other_decision = conversion_decision(cfg.get("other"), *better_candidate())
    third, _ = queue.request(cfg.get("other"), other_decision, actor="watch@m1:7")
    code, out, _ = run("review", "reject", third.id, "--store", store, "--stop", "-n", "not worth it")
    assert code == 0 and "stop: other running → stopped" in out
    s.close()


def watch_slow_candidate(tmp_path: Path, store: str) -> list[str]:
    """``watch`` arguments over an observation store where the candidate has twice control's latency."""
    obs_path = str(tmp_path / "obs.db")
    control, test = slow_candidate()
    obs = open_observation_store(obs_path)
    obs.add([Observation("exp", "control", f"c{i}", "latency_s", float(v)) for i, v in enumerate(control)])
    obs.add([Observation("exp", "candidate", f"t{i}", "latency_s", float(v)) for i, v in enumerate(test)])
    obs.close()
    return [
        "watch",
        "-c",
        str(write_config(tmp_path)),
        "-e",
        "exp",
        "--store",
        store,
        "--observations",
        obs_path,
    ]


def test_watch_once_rolls_back_from_the_observations(tmp_path: Path) -> None:
    store = str(tmp_path / "state.db")
    args = watch_slow_candidate(tmp_path, store)
    code, out, err = run(*args, "--once", "--evaluator", "tests.control.cli_evaluators:p95_latency")
    assert code == 0, err
    assert "exp  rollback  → rolled_back  [state rolled_back v1]  — Roll back: candidate p95 latency" in out
    code, out, _ = run(*args, "--evaluator", "tests.control.cli_evaluators:p95_latency", "--json")
    assert code == 0 and json.loads(out)["action"] == "terminal"  # already rolled back: stops at once
    code, out, _ = run("status", "--store", store, "-e", "exp", "--json")
    (entry,) = json.loads(out)["history"]
    assert entry["actor"].startswith("watch@") and entry["evidence"]["decision"]["kind"] == "rollback"


def test_watch_passes_the_assignment_store_to_an_evaluator_that_asks(tmp_path: Path) -> None:
    from routing_agent.stores.assignments import open_store

    store = str(tmp_path / "state.db")
    s = open_store(store)
    for i in range(10):
        s.get_or_set("exp", f"u{i}", "control" if i % 2 else "candidate")
    s.close()
    args = watch_slow_candidate(tmp_path, store)
    code, out, err = run(
        *args, "--once", "--json", "--evaluator", "tests.control.cli_evaluators:p95_latency_with_counts"
    )
    assert code == 0, err
    assert json.loads(out)["decision"]["evidence"]["assigned"] == {"control": 5, "candidate": 5}


def test_watch_once_reports_an_evaluation_failure(tmp_path: Path) -> None:
    args = ["watch", "-c", str(write_config(tmp_path)), "-e", "exp", "--store", str(tmp_path / "s.db")]
    code, out, _ = run(*args, "--once", "--evaluator", "tests.control.cli_evaluators:broken")
    assert code == 1 and "error" in out and "TimeoutError: observation store did not answer" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "--store", "memory://", "-e", "ghost"], "experiment 'ghost' is unknown"),
        (["rollback", "--store", "STORE", "-e", "ghost", "-r", "x"], "experiment 'ghost' is unknown"),
        (["status", "--store", "STORE"], "name the experiment with --experiment"),
        (
            ["status", "--store", "STORE", "-c", "CONFIG", "-e", "ghost"],
            "no experiment 'ghost' (known: exp, later)",
        ),
        (
            ["rollback", "--store", "STORE", "-c", "CONFIG", "-r", "x"],
            "pick one with --experiment (known: exp, later)",
        ),
        (["status", "--store", "mongodb://x", "-e", "exp"], "unknown store 'mongodb://x'"),
        (["review", "show", "exp:deadbeef", "--store", "STORE"], "no review 'exp:deadbeef'"),
        (["review", "approve", "exp:deadbeef", "--store", "STORE"], "review list --store"),
        (["watch", "-c", "CONFIG", "--store", "STORE"], "pick one with --experiment"),
        (
            ["watch", "-c", "CONFIG", "--store", "STORE", "-e", "exp", "--every", "soon"],
            "cannot read the duration",
        ),
        (
            ["watch", "-c", "CONFIG", "--store", "STORE", "-e", "exp", "--evaluator", "nope"],
            "write module:function",
        ),
        (
            ["watch", "-c", "CONFIG", "--store", "STORE", "-e", "exp", "--evaluator", "no.such:f"],
            "cannot be loaded",
        ),
        (["status", "--store", "STORE", "-c", "BAD"], "invalid config"),
    ],
)
def test_errors_are_one_clear_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("experiments:\n  - id: x\n    variants: []\n")
    subs = {"STORE": str(tmp_path / "s.db"), "CONFIG": str(write_config(tmp_path)), "BAD": str(bad)}
    code, out, err = run(*[subs.get(a, a) for a in args])
    assert code == 2, (out, err)
    assert message in err and err.startswith("error: ") and "Traceback" not in err + out


def test_an_unreachable_redis_is_named_with_the_fix_and_no_password() -> None:
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0?timeout=0.2"
    for args in (
        ["status", "--store", url, "-e", "exp"],
        ["rollback", "--store", url, "-e", "exp", "-r", "x"],
        ["review", "list", "--store", url],
    ):
        code, out, err = run(*args)
        assert code == 2, (args, out, err)
        assert "cannot use the store redis://:***@127.0.0.1" in err and "redis-cli" in err
        assert "s3cret" not in err + out and "Traceback" not in err


def test_the_store_url_can_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = str(tmp_path / "env.db")
    monkeypatch.setenv("ROUTING_AGENT_STORE", store)
    assert run("rollback", "-c", str(write_config(tmp_path)), "-e", "exp", "-r", "breach")[0] == 0
    from routing_agent.stores.assignments import open_store

    s = open_store(store)
    assert s.get_state("exp").status is S.ROLLED_BACK  # type: ignore[union-attr]
    s.close()


def test_missing_required_options_are_usage_errors() -> None:
    code, _, err = run("rollback", "--store", "memory://", "-e", "exp")
    assert code == 2 and "--reason" in err
