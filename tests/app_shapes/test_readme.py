"""Every Python and YAML example in README.md runs: Python blocks are executed in order (the Redis URL swapped
for the test server, simulated models without waiting), YAML configs are loaded, YAML fragments parsed."""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from routing_agent import load_experiments_from_string, uninstrument
from tests.support.time_scale import instant_models

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(python|yaml)\n(.*?)^```", re.S | re.M)


def blocks(language: str) -> list[str]:
    """The README's fenced blocks in ``language``, in order."""
    return [body for lang, body in BLOCK.findall(README) if lang == language]


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(ROOT)
    with instant_models():
        yield
    uninstrument()


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_example_runs(index: int, in_repo: None, redis_url: str, redis_prefix: str) -> None:
    code = blocks("python")[index].replace("redis://localhost:6379/0", f"{redis_url}?prefix={redis_prefix}")
    module = types.ModuleType(f"readme_example_{index}")  # a real module: dataclasses look themselves up
    sys.modules[module.__name__] = module
    try:
        exec(compile(code, f"README.md python block {index}", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]


@pytest.mark.parametrize("index", range(len(blocks("yaml"))))
def test_yaml_example_is_valid(index: int) -> None:
    text = blocks("yaml")[index]
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    if "experiments" in data or "simulated_profiles" in data:
        load_experiments_from_string(text, source=f"README.md yaml block {index}")


def test_every_example_is_collected() -> None:
    assert len(blocks("python")) >= 3
    assert any("create_agent" in b for b in blocks("python"))
    assert any("MessagesState" in b and "record_outcome" in b for b in blocks("python"))
