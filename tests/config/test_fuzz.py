"""Hypothesis: any input gives a valid config or a ``ConfigError`` — never another exception; a mutation
that breaks a known field gives an error naming that field and a line of the file that holds it.

150 examples per test in the normal run; `RA_FUZZ_EXAMPLES=3000 pytest tests/config/test_fuzz.py` digs deeper.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing_agent.config import ExperimentsConfig
from routing_agent.config.messages import format_path
from routing_agent.errors import ConfigError, ConfigIssue
from routing_agent.loading import load_experiments_from_string
from tests.config.support import VALID

FUZZ = settings(
    max_examples=int(os.environ.get("RA_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
BASE: dict[str, Any] = yaml.safe_load(VALID)
FREE_FORM = {"params", "options", "simulated_profiles"}
"""Mappings whose keys and values are the user's own: nothing there can be "wrong"."""
KEYED = {"agents", "prices"}
"""Mappings keyed by the user's names (agent names, model ids), so a new key is not a typo."""


def load(text: str | bytes) -> ExperimentsConfig | None:
    """The config, or None after a ConfigError whose issues are well formed."""
    try:
        return load_experiments_from_string(text, source="fuzz.yaml")
    except ConfigError as error:
        assert error.issues
        for issue in error.issues:
            assert isinstance(issue, ConfigIssue) and issue.file == "fuzz.yaml" and issue.message
            assert issue.line is None or issue.line >= 1
        return None


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["simulated:fast-cheap", "session", "p95", "control", "2026-05-01", "80%", "yes"]),
)
keys = st.one_of(
    st.text(max_size=10),
    st.sampled_from(["experiments", "id", "variants", "name", "model", "weight", "control", "scope"]),
)
structures = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=25,
)


@FUZZ
@given(structures)
def test_random_structures_never_raise_anything_but_config_error(data: Any) -> None:
    load(yaml.safe_dump(data, allow_unicode=True))
    load(yaml.safe_dump({"experiments": [data]}, allow_unicode=True))


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("-:{}[]&*!|>'\"#%@`?, \n\tabcxyz019.~<=")), max_size=120))
def test_random_yaml_like_text_never_raises_anything_but_config_error(text: str) -> None:
    load(text)
    load(VALID + text)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_config_error(data: bytes) -> None:
    load(data)
    load(VALID.encode() + data)


def _key_paths(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Paths to every mapping key of the valid config, outside free-form mappings."""
    out: list[tuple[str | int, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*path, key))
            if key not in FREE_FORM:
                out += _key_paths(value, (*path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            out += _key_paths(item, (*path, i))
    return out


def _mappings(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Paths to mappings that are spec models (where an unknown key is a typo)."""
    out: list[tuple[str | int, ...]] = []
    if isinstance(node, dict):
        if not path or path[-1] not in FREE_FORM | KEYED:
            out.append(path)
        for key, value in node.items():
            if key not in FREE_FORM:
                out += _mappings(value, (*path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            out += _mappings(item, (*path, i))
    return out


KEY_PATHS = _key_paths(BASE)
MODEL_PATHS = _mappings(BASE)


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _field(path: tuple[str | int, ...]) -> str:
    """How an issue names ``path``: relative to the experiment when inside one."""
    if path[:1] == ("experiments",) and len(path) > 2:
        return format_path(path[2:])
    return format_path(path)


def _names(issue: ConfigIssue) -> set[str]:
    """The names an issue gives its field; an experiment without an id is also named by position."""
    names = {issue.field or ""}
    if issue.experiment and issue.experiment.startswith("experiments["):
        names.add(issue.experiment + ("." + issue.field if issue.field else ""))
    return names


def _assert_names(text: str, path: tuple[str | int, ...], *, key_on_line: bool) -> None:
    try:
        load_experiments_from_string(text, source="fuzz.yaml")
    except ConfigError as error:
        field = _field(path)
        lines = text.splitlines()
        hits = [i for i in error.issues if any(n and n.startswith(field) for n in _names(i))]
        assert hits, f"no issue names {field!r}:\n{error}\n---\n{text}"
        for issue in hits:
            assert issue.line is not None and 1 <= issue.line <= len(lines), issue
            if key_on_line and field in _names(issue):
                assert str(path[-1]) in lines[issue.line - 1], (issue, lines[issue.line - 1])
    else:
        raise AssertionError(f"mutation of {path} was accepted:\n{text}")


@FUZZ
@given(
    st.sampled_from(KEY_PATHS),
    st.sampled_from([[[1, 2]], [["a", None]]]),
    st.sampled_from([False, True]),
)
def test_a_broken_field_is_named_with_its_line(path: tuple[str | int, ...], bad: Any, flow: bool) -> None:
    data = copy.deepcopy(BASE)
    _get(data, path[:-1])[path[-1]] = bad
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None if flow else False)
    _assert_names(text, path, key_on_line=not flow)


@FUZZ
@given(st.sampled_from(MODEL_PATHS), st.from_regex(r"\A[a-z]{3,9}_?[a-z]{0,4}\Z"))
def test_an_unknown_key_is_named_with_its_line(path: tuple[str | int, ...], key: str) -> None:
    data = copy.deepcopy(BASE)
    target = _get(data, path)
    if key in target or key in {"version", "experiments", "default_model", "telemetry"}:
        return
    target[key] = 1
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    _assert_names(text, (*path, key), key_on_line=True)


REQUIRED = [p for p in KEY_PATHS if p[-1] in {"id", "name", "model", "metric", "mde", "type", "input"}]


@FUZZ
@given(st.sampled_from(REQUIRED))
def test_a_missing_required_field_is_named(path: tuple[str | int, ...]) -> None:
    data = copy.deepcopy(BASE)
    del _get(data, path[:-1])[path[-1]]
    _assert_names(yaml.safe_dump(data, sort_keys=False), path, key_on_line=False)
