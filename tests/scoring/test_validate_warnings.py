"""`routing-agent validate` warns (exit 0, no error) on an experiment without primary metric or guardrails."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from routing_agent.cli import app

runner = CliRunner()
BARE = """version: 1
experiments:
  - id: bare
    variants:
      - {name: a, model: "simulated:fast-cheap", control: true}
      - {name: b, model: "simulated:regressed"}
"""


def test_no_primary_metric_and_no_guardrails_warn_but_validate(tmp_path: Path) -> None:
    path = tmp_path / "bare.yaml"
    path.write_text(BARE)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("warning")]
    assert len(lines) == 2
    assert "primary_metric" in lines[0] and "bare" in lines[0] and "bare.yaml:3" in lines[0]
    assert "guardrails" in lines[1] and "fix:" in lines[1]
    data = json.loads(runner.invoke(app, ["validate", "--json", str(path)]).output)
    assert data["ok"] is True
    assert [(w["experiment"], w["field"]) for w in data["warnings"]] == [
        ("bare", "primary_metric"),
        ("bare", "guardrails"),
    ]


def test_the_shipped_configs_have_no_warnings() -> None:
    for name in ("support", "invoice", "rag", "scenarios/worked-example"):
        result = runner.invoke(app, ["validate", "--json", f"configs/{name}.yaml"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["warnings"] == []
