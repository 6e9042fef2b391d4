"""``routing-agent score`` over stored outputs, through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.scoring.outputs import OutputRecord, write_records
from routing_agent.stores.observations import open_observation_store

YAML = """
experiments:
  - id: inv
    variants:
      - {name: control, model: "simulated:strong-expensive", control: true}
      - {name: candidate, model: "simulated:regressed"}
    scorers:
      - {name: json_valid, type: json_schema, agent: extractor, mode: offline,
         options: {schema_file: invoice.schema.json}}
      - {name: quality, type: judge_likert, agent: extractor, reference_field: reference, mode: offline,
         options: {judge_model: "simjudge:garbage"}}
"""


def setup(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "invoice.schema.json").write_text(json.dumps({"type": "object", "required": ["total"]}))
    config = tmp_path / "inv.yaml"
    config.write_text(YAML)
    outputs = [('{"total": 1}', "control"), ('{"total": 2}', "candidate"), ("oops", "candidate")]
    records = [
        OutputRecord(
            experiment="inv",
            variant=v,
            unit_id=f"u{i}",
            key=f"k{i}",
            agent="extractor",
            output=o,
            reference='{"total": 1}',
        )
        for i, (o, v) in enumerate(outputs)
    ]
    path = tmp_path / "outputs.jsonl"
    write_records(path, records)
    return config, path


def test_score_command_prints_the_summary_and_writes_observations(tmp_path: Path) -> None:
    config, records = setup(tmp_path)
    db = f"sqlite:///{tmp_path / 'obs.db'}"
    result = CliRunner().invoke(
        app, ["score", "--config", str(config), "--records", str(records), "--observations", db, "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    rows = {(r["scorer"], r["variant"]): r for r in summary["scores"]}
    assert rows[("json_valid", "candidate")] == {
        "scorer": "json_valid",
        "variant": "candidate",
        "n": 2,
        "mean": 0.5,
        "invalid": 0,
        "skipped": 0,
    }
    assert rows[("quality", "candidate")]["invalid"] == 2 and rows[("quality", "candidate")]["mean"] is None
    store = open_observation_store(db)
    try:
        invalid = store.unit_aggregates("inv", "quality.invalid")["candidate"]
        assert (invalid.n_obs, invalid.sum_x) == (2, 2.0)
    finally:
        store.close()
    table = CliRunner().invoke(app, ["score", "--config", str(config), "--records", str(records)])
    assert table.exit_code == 0 and "json_valid" in table.output


def test_score_command_reports_bad_input(tmp_path: Path) -> None:
    config, records = setup(tmp_path)
    (tmp_path / "invoice.schema.json").unlink()
    result = CliRunner().invoke(app, ["score", "--config", str(config), "--records", str(records)])
    assert result.exit_code == 2
    assert "schema_file" in result.output


def test_summary_lists_details_as_metrics(tmp_path: Path) -> None:
    config, records = setup(tmp_path)
    result = CliRunner().invoke(app, ["score", "--config", str(config), "--records", str(records), "--json"])
    rows = {(r["scorer"], r["variant"]): r for r in json.loads(result.output)["scores"]}
    assert rows[("json_valid.parse_error", "candidate")]["mean"] == 0.5
    assert rows[("quality.invalid", "candidate")]["mean"] == 1.0  # the invalid-verdict rate
