"""libyaml (the fast path of ``validate``) and PyYAML's pure-Python reader give the same result.

``read_yaml`` composes through libyaml when PyYAML has it and falls back to the pure reader for whatever the
fast path finds unusual, so that every value, line, issue and message is the same either way. Checked here
on the shipped configs, every malformed and hand-written hostile case of the suite and random mutations.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from routing_agent.config import yaml_source
from routing_agent.config.yaml_compose import AVAILABLE, compose_with_libyaml
from routing_agent.config.yaml_source import MAX_DEPTH, read_yaml
from tests.badinput.corpus import HAND_WRITTEN, mutations
from tests.config.malformed_cases import SHAPE_CASES
from tests.config.malformed_rules import RULE_CASES
from tests.config.test_yaml_safety import BILLION_LAUGHS

SHIPPED = {
    path.name: path.read_text()
    for path in resources.files("routing_agent.configs").iterdir()
    if path.name.endswith(".yaml")
}
TEXTS: dict[str, str | bytes] = {
    **{f"shipped:{name}": text for name, text in SHIPPED.items()},
    **{f"malformed:{case[0]}": case[1] for case in SHAPE_CASES + RULE_CASES},
    **{f"hostile:{name}": text for name, text in HAND_WRITTEN.items()},
    **{f"mutation:{i}": text for i, (_, text) in enumerate(mutations(60))},
    "bomb": BILLION_LAUGHS,
    "deep": "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n",
    "anchors": "d: &d {x: 1}\nm: {<<: *d, y: *d}\nl: [&s str, *s]\n---\nsecond: &d 2\nagain: *d\n",
    "undefined-alias": "a: *nope\n",
    "duplicate-anchor": "a: &x 1\nb: &x 2\n",
    "tags": "a: !!python/object:os.system ls\nb: !custom x\nc: !!str 5\nd: ! 7\n",
}


def _outcome(text: str | bytes) -> Any:
    documents, issues = read_yaml(text, "t.yaml")
    return issues, [(d.data, d.lines, d.issues, d.broken) for d in documents]


def test_libyaml_is_there_and_takes_the_shipped_configs() -> None:
    assert AVAILABLE  # PyYAML's wheels bundle libyaml: the speed of ``validate`` depends on it
    for text in SHIPPED.values():
        assert compose_with_libyaml(text, MAX_DEPTH)  # no fallback for ordinary configs


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_both_readers_agree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _outcome(TEXTS[name])
    monkeypatch.setattr(yaml_source, "AVAILABLE", False)
    assert _outcome(TEXTS[name]) == fast
