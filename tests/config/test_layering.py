"""``routing_agent.config`` is the bottom layer: it imports nothing from ``providers`` or ``scoring``.

Those packages plug their checks (scorer options, simulated profiles) into the loader when imported
(``routing_agent.config.checks``); ``routing_agent.load_experiments`` wires them in, so a typo under a
scorer's options or a profile is still a located error at load time.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import routing_agent.config
from routing_agent import load_experiments_from_string
from routing_agent.errors import ConfigError

CONFIG_DIR = Path(routing_agent.config.__file__).parent
UPPER = ("routing_agent.providers", "routing_agent.scoring")

WITH_SCORERS_AND_PROFILES = """\
simulated_profiles:
  mine: {extends: fast-cheap}
experiments:
  - id: a
    variants:
      - {name: c, model: "simulated:mine", control: true}
      - {name: d, model: "simulated:cheap-fast"}
    scorers:
      - {name: s, type: fuzzy, reference_field: answer, options: {threshold: 0.8}}
"""


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module]
    if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
        "import_module",
        "__import__",
    }:
        return [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return []


def test_no_config_module_imports_providers_or_scoring_even_inside_functions() -> None:
    found = [
        f"{path.name}: {name}"
        for path in sorted(CONFIG_DIR.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        for name in _imported(node)
        if name.startswith(UPPER)
    ]
    assert found == []


def test_loading_a_config_with_scorers_and_profiles_through_config_loads_neither_package() -> None:
    program = (
        "import json, sys\n"
        "from routing_agent.config import load_experiments_from_string\n"
        f"config = load_experiments_from_string({WITH_SCORERS_AND_PROFILES!r})\n"
        "assert len(config) == 1 and 'mine' in config.simulated_profiles\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({UPPER!r}))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], check=False, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_public_loader_still_locates_scorer_and_profile_problems() -> None:
    assert len(load_experiments_from_string(WITH_SCORERS_AND_PROFILES)) == 1
    text = WITH_SCORERS_AND_PROFILES.replace("extends: fast-cheap", "extends: no-such-profile").replace(
        "threshold", "treshold"
    )
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string(text, source="p.yaml")
    by_field = {issue.field: issue for issue in info.value.issues}
    scorer = by_field["scorers[0].options.treshold"]
    assert (scorer.file, scorer.line, scorer.experiment) == ("p.yaml", 9, "a")
    assert any(issue.line == 2 and "no-such-profile" in issue.message for issue in info.value.issues), [
        (i.line, i.field, i.message) for i in info.value.issues
    ]
