"""``routing-agent validate`` on ≥ 200 malformed and hostile configs: each gets exit code 0 or 1, every
problem on its own located line, valid JSON with ``--json``, and never a traceback, a raw terminal escape
sequence echoed from the file, or a line long enough to flood a terminal. The configs that are valid load
into a ``RoutingNode`` that routes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.config.loader import check_experiments
from routing_agent.graph import RoutingNode
from tests.badinput.corpus import HAND_WRITTEN, mutations

runner = CliRunner()
CASES: dict[str, str | bytes] = {**HAND_WRITTEN, **dict(mutations(160))}
MAX_LINE = 1000


def test_the_corpus_has_at_least_200_distinct_cases() -> None:
    assert len(CASES) >= 200
    assert len({c if isinstance(c, bytes) else c.encode() for c in CASES.values()}) >= 200


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / f"{name[:80]}.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    return path


def assert_clean_output(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text
    assert "\x1b" not in text  # no escape sequence from the file reaches the terminal
    assert max((len(line) for line in text.splitlines()), default=0) <= MAX_LINE


@pytest.mark.parametrize("name", sorted(CASES))
def test_validate_gives_a_clean_verdict(name: str, tmp_path: Path) -> None:
    path = write(tmp_path, name, CASES[name])
    check = check_experiments(path)  # the library never raises on bad input either
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert_clean_output(result.output)
    assert (result.exit_code == 0) == check.ok
    lines = result.output.splitlines()
    if check.ok:
        assert lines[0].startswith("valid: ")
        assert check.config is not None
        node = RoutingNode(check.config)
        node.invoke({"session_id": "s-1", "user_id": "u-1", "request_id": "r-1"})
        assert node.stats()["events"] == {}
    else:
        assert lines[-1].startswith("invalid: ")
        assert all(line.startswith(str(path)) for line in lines[:-1] if not line.startswith(" "))
        assert all(issue.file == str(path) and issue.message for issue in check.issues)
    as_json = runner.invoke(app, ["validate", "--json", str(path)])
    assert as_json.exit_code == result.exit_code
    payload = json.loads(as_json.output)
    assert payload["ok"] == check.ok and len(payload["issues"]) == len(check.issues)


def test_nothing_from_a_python_tag_ever_runs(tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    for tag in ("!!python/object/apply:os.system", "!!python/object/apply:subprocess.call"):
        path = write(tmp_path, "tag", f"experiments: {tag} [['touch', '{canary}']]\n")
        result = runner.invoke(app, ["validate", str(path)])
        assert result.exit_code == 1 and "tag" in result.output
    assert not canary.exists()
