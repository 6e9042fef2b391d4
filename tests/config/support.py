"""Helpers for config tests: write YAML, load it, find the issue for a field, locate marked lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from routing_agent.errors import ConfigError, ConfigIssue
from routing_agent.loading import load_experiments

MARK = "#<"
"""Put ``#<`` at the end of the line an error must point at."""

VALID = """\
agents:
  classifier: {model: simulated:strong-expensive}
  retriever: {model: simulated:strong-expensive}
experiments:
  - id: support-haiku
    description: large vs small
    unit: session
    scope: [drafter, resolver]
    variants:
      - name: control
        model: simulated:strong-expensive
        weight: 80
        control: true
      - name: candidate
        model: simulated:fast-cheap
        weight: 20
        params: {temperature: 0}
    primary_metric:
      name: resolved
      kind: binary
      mde: 0.02
      baseline: 0.87
    guardrails:
      - metric: latency_s
        statistic: p95
        max_ratio_to_control: 1.3
      - metric: refusal
        max_ratio_to_control: 2.0
    scorers:
      - name: exact_answer
        type: exact
        agent: drafter
        reference_field: expected
        options: {ignore_case: true}
    prices:
      simulated:fast-cheap: {input: 0.8, output: 4.0}
    review: required
"""
"""A valid config exercising most fields; tests mutate it."""


def dedent(text: str) -> str:
    """Strip the common indentation of a triple-quoted YAML snippet."""
    return textwrap.dedent(text).lstrip("\n")


def write(tmp_path: Path, text: str | bytes, name: str = "experiments.yaml") -> Path:
    """Write ``text`` to ``tmp_path/name`` and return the path."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def marked_line(text: str) -> int:
    """The 1-based line carrying the ``#<`` marker."""
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if line.rstrip().endswith(MARK)]
    assert len(lines) == 1, f"expected one {MARK} marker, found {len(lines)}"
    return lines[0]


def load_error(*paths: Path) -> ConfigError:
    """Load ``paths`` and return the ConfigError it must raise."""
    with pytest.raises(ConfigError) as info:
        load_experiments(*paths)
    return info.value


def issue_for(error: ConfigError, field: str | None, experiment: str | None = None) -> ConfigIssue:
    """The one issue about ``field`` (and ``experiment``); fails listing all issues otherwise."""
    found = [
        i for i in error.issues if i.field == field and (experiment is None or i.experiment == experiment)
    ]
    assert found, f"no issue for field {field!r} in:\n{error}"
    return found[0]
