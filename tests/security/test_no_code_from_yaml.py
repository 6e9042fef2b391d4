"""No ``routing-agent`` command and no API that reads a config ever builds Python objects from YAML: every
non-standard tag is refused with a located message, nothing runs (a canary file is never created), and the
CLI answers with a clean error instead of a traceback. Extends ``tests/config/test_yaml_safety.py`` (the
loader) to every entry point that takes a config."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.config.loader import load_experiments
from routing_agent.errors import ConfigError
from routing_agent.graph import RoutingNode
from tests.graph.test_routing_node import make_config

runner = CliRunner()

PAYLOADS = {
    "object-apply": "experiments: !!python/object/apply:os.system ['touch {canary}']\n",
    "object-new": "experiments:\n  - !!python/object/new:subprocess.Popen [['touch', '{canary}']]\n",
    "name": "experiments:\n  - id: !!python/name:os.system\n",
    "module": "default_model: !!python/module:os\nexperiments: []\n",
    "nested-in-params": (
        "experiments:\n  - id: e\n    variants:\n"
        "      - {name: control, model: 'simulated:a', control: true,\n"
        "         params: {x: !!python/object/apply:os.system ['touch {canary}']}}\n"
        "      - {name: candidate, model: 'simulated:b'}\n"
    ),
    "behind-an-anchor": "a: &a !!python/object/apply:os.system ['touch {canary}']\nexperiments: [*a]\n",
    "custom-include": "experiments: !include /etc/passwd\n",
}


def commands(config: Path, tmp: Path) -> dict[str, list[str]]:
    records = tmp / "records.jsonl"
    records.write_text("")
    return {
        "validate": ["validate", str(config)],
        "simulate": ["simulate", "--config", str(config), "--sessions", "1", "--workdir", str(tmp / "sim")],
        "demo": ["demo", "--config", str(config), "--sessions", "1", "--workdir", str(tmp / "demo")],
        "status": ["status", "--config", str(config), "--store", "memory://"],
        "rollback": ["rollback", "--config", str(config), "--store", "memory://", "--reason", "r"],
        "watch": ["watch", "--config", str(config), "--store", "memory://", "--observations", "memory://"],
        "score": ["score", "--config", str(config), "--records", str(records)],
        "evaluate": [
            "evaluate",
            "--config",
            str(config),
            "--store",
            "memory://",
            "--observations",
            "memory://",
        ],
        "report": ["report", "--config", str(config), "--store", "memory://", "--out", str(tmp / "r.md")],
    }


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_every_command_refuses_tags_and_runs_nothing(payload: str, tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    config = tmp_path / "evil.yaml"
    config.write_text(PAYLOADS[payload].replace("{canary}", str(canary)))
    for name, args in commands(config, tmp_path).items():
        result = runner.invoke(app, args)
        assert result.exit_code in (1, 2), (name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
        assert "Traceback" not in result.output, name
        assert "tag" in result.output, (name, result.output)
        assert not canary.exists(), name
    with pytest.raises(ConfigError, match="tag"):
        load_experiments(config)
    with pytest.raises(ConfigError, match="tag"):
        RoutingNode(config)
    node = RoutingNode(make_config())
    assert not node.reload(config).ok
    assert not canary.exists()
