"""``routing-agent validate PATH... [--json]`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from routing_agent.cli import app
from tests.config.support import VALID, write

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def test_valid_config_exits_zero_with_a_summary(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "valid: 1 experiment in 1 file"
    assert lines[1].startswith(
        f"support-haiku  {path}:5  unit: session (session_id)  scope: drafter, resolver"
    )
    assert "   80.0%  simulated:strong-expensive  (control)" in lines[2]
    assert "   20.0%  simulated:fast-cheap" in lines[3]


def test_each_problem_is_one_line_and_exit_code_is_one(tmp_path: Path) -> None:
    bad = VALID.replace("weight: 20", "weight: 10").replace("kind: binary", "kind: binery")
    path = write(tmp_path, bad)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 3, result.output
    assert lines[0].startswith(f"{path}:9  support-haiku  variants  weights sum to 90")
    assert "fix: adjust the weights" in lines[0]
    assert lines[1].startswith(f"{path}:20  support-haiku  primary_metric.kind  must be one of")
    assert "fix: did you mean 'binary'?" in lines[1]
    assert lines[2] == "invalid: 2 problems in 1 file (1 file checked); nothing was loaded"


def test_file_level_problem_prints_dashes_for_missing_parts(tmp_path: Path) -> None:
    path = write(tmp_path, b"experiments: [\xff]\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"{path}:1  -  -  byte 0xff")


def test_several_paths_and_a_missing_one(tmp_path: Path) -> None:
    good = write(tmp_path, VALID)
    result = runner.invoke(app, ["validate", str(good), str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'missing.yaml'}  -  -  no such file or folder  fix: check the path" in result.output


def test_json_output(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    result = runner.invoke(app, ["validate", "--json", str(path)])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["ok"] is True and data["issues"] == [] and data["files"] == [str(path)]
    (exp,) = data["experiments"]
    assert exp["id"] == "support-haiku" and exp["scope"] == ["drafter", "resolver"]
    assert [(v["name"], v["weight"], v["control"]) for v in exp["variants"]] == [
        ("control", 0.8, True),
        ("candidate", 0.2, False),
    ]
    bad = runner.invoke(app, ["validate", "--json", str(write(tmp_path, "experimentz: []\n", "bad.yaml"))])
    assert bad.exit_code == 1
    issue = json.loads(bad.output)["issues"][0]
    assert issue["line"] == 1 and issue["field"] == "experimentz" and "experiments" in issue["fix"]


def test_rich_markup_in_user_text_is_printed_verbatim(tmp_path: Path) -> None:
    path = write(tmp_path, "experiments:\n  - id: '[bold]x[/bold]'\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "'[bold]x[/bold]' is not a valid id" in result.output


def test_shipped_configs_folder_validates() -> None:
    result = runner.invoke(app, ["validate", str(REPO / "configs")])
    assert result.exit_code == 0, result.output
    assert "support-haiku" in result.output and "invoice-extractor" in result.output
