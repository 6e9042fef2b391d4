"""Every YAML example in README.md validates as what it claims to be.

Whole configs load; a fragment (``scorers:``, ``primary_metric:`` …) is placed inside a minimal
experiment and loaded, and its scorers are built — the judge rubric example included — so a README example can
never drift from what ``routing-agent validate`` accepts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from routing_agent.config.loader import load_experiments_from_string
from routing_agent.scoring.factory import build_scorers

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = [body for lang, body in re.findall(r"^```(\w+)\n(.*?)^```", README, re.S | re.M) if lang == "yaml"]
TOP_LEVEL = {"version", "experiments", "simulated_profiles", "default_model", "agents"}
BASE: dict[str, Any] = {
    "id": "readme",
    "variants": [
        {"name": "control", "model": "simulated:strong-expensive", "control": True},
        {"name": "candidate", "model": "simulated:fast-cheap"},
    ],
}


def as_config(text: str) -> str:
    data = yaml.safe_load(text)
    assert isinstance(data, dict), "a README YAML block must be a mapping"
    if set(data) & TOP_LEVEL:
        return text
    return yaml.safe_dump({"version": 1, "experiments": [{**BASE, **data}]}, sort_keys=False)


def test_the_readme_has_yaml_examples() -> None:
    assert len(BLOCKS) >= 4
    assert any("judge_likert" in b and "rubric" in b for b in BLOCKS)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_yaml_example_validates(index: int) -> None:
    config = load_experiments_from_string(as_config(BLOCKS[index]), source=f"README.md yaml block {index}")
    for spec in config.experiments:
        built = build_scorers(spec, source="README.md", base_dir=ROOT)
        assert [s.name for s, _ in built] == [s.name for s in spec.scorers]
