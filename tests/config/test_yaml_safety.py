"""The YAML reader: safe loading, duplicate keys, alias bombs, limits, encodings and syntax errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from routing_agent.config.yaml_source import MAX_DEPTH
from routing_agent.errors import ConfigError
from routing_agent.loading import load_experiments, load_experiments_from_string
from tests.config.support import VALID, dedent, issue_for, load_error, marked_line, write

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_python_tags_are_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = dedent(
        f"""
        experiments:
          - id: exp-a
            description: !!python/object/apply:os.system ["touch {marker}"]  #<
            variants:
              - {{name: control, model: "simulated:a", control: true}}
              - {{name: candidate, model: "simulated:b"}}
        """
    )
    error = load_error(write(tmp_path, text))
    issue = issue_for(error, "description", "exp-a")
    assert issue.line == marked_line(text)
    assert "!!python/object/apply:os.system" in issue.message and "safe-loaded" in issue.message
    assert issue.fix and "remove the tag" in issue.fix
    assert not marker.exists()
    assert len(error.issues) == 1  # the refused value is not reported again as "missing"/"wrong type"


@pytest.mark.parametrize(
    "value",
    ["!!python/name:os.system ''", "!!binary aGVsbG8=", "!env HOME", "!!set {a, b}", "!!python/tuple [1, 2]"],
)
def test_any_non_standard_tag_is_refused(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string(f"experiments: []\ntelemetry: {value}\n", source="t.yaml")
    (issue,) = info.value.issues
    assert (issue.file, issue.line, issue.field) == ("t.yaml", 2, "telemetry")
    assert "is not allowed" in issue.message


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string(BILLION_LAUGHS, source="bomb.yaml")
    # the claim is "refused, not hung": a generous bound that holds on a loaded machine
    assert time.perf_counter() - started < 30.0
    (issue,) = info.value.issues
    assert issue.file == "bomb.yaml" and "alias bomb" in issue.message
    assert "387,420,4" in issue.message or "values" in issue.message


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(ConfigError, match="recursive alias"):
        load_experiments_from_string("experiments: &x [*x]\n")


def test_deep_nesting_is_refused_with_its_line() -> None:
    text = "experiments:\n" + "".join("  " * (i + 1) + "- \n" for i in range(MAX_DEPTH + 5))
    with pytest.raises(ConfigError, match="nested more than") as info:
        load_experiments_from_string(text)
    assert info.value.issues[0].line is not None


def test_deep_flow_nesting_does_not_blow_the_stack() -> None:
    with pytest.raises(ConfigError, match="nested more than"):
        load_experiments_from_string("experiments: " + "[" * 5000 + "]" * 5000)


def test_file_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "#" * 2000 + "\n")
    with pytest.raises(ConfigError, match="the limit is 1,000") as info:
        load_experiments(path, max_bytes=1000)
    assert info.value.issues[0].file == str(path)
    assert info.value.issues[0].fix and "split" in info.value.issues[0].fix
    assert load_experiments(path)  # fine under the default limit


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"experiments:\n  - id: caf\xe9\n")
    (issue,) = load_error(path).issues
    assert (issue.file, issue.line) == (str(path), 2)
    assert "not valid UTF-8" in issue.message and "0xe9" in issue.message
    assert issue.fix and "UTF-8" in issue.fix


def test_utf16_file_is_refused_and_utf8_bom_accepted(tmp_path: Path) -> None:
    utf16 = write(tmp_path, VALID.encode("utf-16"), "utf16.yaml")
    assert "UTF-16" in load_error(utf16).issues[0].message
    bom = write(tmp_path, b"\xef\xbb\xbf" + VALID.encode(), "bom.yaml")
    assert load_experiments(bom).experiments[0].id == "support-haiku"


def test_control_character_is_refused_with_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string("experiments: []\n\nversion: 1\x00\n")
    assert info.value.issues[0].line == 3
    assert "U+0000" in info.value.issues[0].message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("experiments:\n  - id: a\n\tscope: [x]\n", 3, "tab"),
        ("experiments:\n  - id: 'unclosed\n    scope: [x]\n", 2, "quote"),
        ("agents:\n  drafter: {model: simulated:a\nexperiments: []\n", 3, "YAML syntax error"),
        ("experiments: *undefined\n", 1, "before any anchor"),
        ("experiments:\n  - id: a\n   scope: b: c\n", 3, "indent"),
    ],
)
def test_syntax_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string(text, source="s.yaml")
    (issue,) = info.value.issues
    assert issue.file == "s.yaml" and issue.line == line, issue
    assert words in issue.message or words in (issue.fix or "")
    assert issue.fix


def test_duplicate_key_names_both_lines() -> None:
    text = "agents: {}\n" + VALID  # VALID starts with its own agents: section
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string(text, source="d.yaml")
    issue = issue_for(info.value, "agents")
    assert issue.line == 2 and "lines 1 and 2" in issue.message


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = dedent(
        """
        agents:
          drafter: {model: nope}
        experiments:
          - id: exp-a
            unit: sesion
            variants:
              - {name: control, model: "simulated:a", weight: 70, control: true}
              - {name: candidate, model: "simulated:b", weight: 20}
          - id: exp-b
            coverage: 2
            variants:
              - {name: control, model: "simulated:a", control: true, colour: red}
              - {name: candidate, model: "simulated:b"}
        """
    )
    error = load_error(write(tmp_path, text))
    found = {(i.experiment, i.field) for i in error.issues}
    assert found == {
        (None, "agents.drafter.model"),
        ("exp-a", "unit"),
        ("exp-a", "variants"),
        ("exp-b", "coverage"),
        ("exp-b", "variants[0].colour"),
    }
    assert [i.line for i in error.issues] == sorted(i.line or 0 for i in error.issues)


def test_weights_problem_reported_with_other_field_problems() -> None:
    """Validators report every rule they break in one pass (names, control, weights)."""
    text = dedent(
        """
        experiments:
          - id: exp-a
            variants:
              - {name: a, model: "simulated:a", weight: 50}
              - {name: a, model: "simulated:b", weight: 10}
        """
    )
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string(text)
    fields = sorted(i.field or "" for i in info.value.issues)
    assert fields == ["variants", "variants", "variants[1].name"]
    assert any("sum to 60" in i.message for i in info.value.issues)
    assert any("control: true" in i.message for i in info.value.issues)


def test_anchors_and_merge_keys_work() -> None:
    text = dedent(
        """
        x-guardrails: &guards
          - {metric: latency_s, statistic: p95, max_ratio_to_control: 1.3}
        """
    )
    # x- keys are not allowed at top level: anchors must live inside known fields
    with pytest.raises(ConfigError, match="unknown top-level key 'x-guardrails'"):
        load_experiments_from_string(text + "experiments: []\n")
    text = dedent(
        """
        experiments:
          - id: exp-a
            scope: [drafter]
            variants: &two
              - &ctl {name: control, model: "simulated:a", control: true, weight: 80}
              - {<<: *ctl, name: candidate, model: "simulated:b", control: false, weight: 20}
            guardrails: &guards
              - {metric: latency_s, statistic: p95, max_ratio_to_control: 1.3}
          - id: exp-b
            scope: [resolver]
            variants: *two
            guardrails: *guards
        """
    )
    config = load_experiments_from_string(text)
    a, b = config.experiments
    assert a.variants == b.variants and a.guardrails == b.guardrails
    assert [v.weight for v in a.variants] == [0.8, 0.2]
    assert a.variants[1].model == "simulated:b" and not a.variants[1].control


def test_yaml_11_booleans_as_keys_stay_text() -> None:
    text = "simulated_profiles:\n  on: {extends: fast-cheap}\nexperiments: []\n"
    assert "on" in load_experiments_from_string(text).simulated_profiles


def test_several_documents_in_one_file_merge() -> None:
    text = "agents:\n  drafter: {model: simulated:a}\n---\n" + VALID
    config = load_experiments_from_string(text)
    assert set(config.agents) == {"drafter", "classifier", "retriever"}
    assert len(config) == 1


def test_huge_numbers_are_reported_not_crashed_on() -> None:
    text = "experiments:\n" + "  - id: a\n    coverage: " + "9" * 400 + "\n"
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string(text)
    issue = issue_for(info.value, "coverage", "a")
    assert issue.line == 3 and "400-digit number" in issue.message


SCORER = """\
experiments:
  - id: a
    variants:
      - {name: c, model: "x:y", control: true}
      - {name: d, model: "x:z"}
    scorers:
      - name: s
        type: json_schema
        options:
"""


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ("          allow_fence: true", "scorers[0].options.allow_fence", "did you mean 'allow_fences'"),
        ("          schema_file: /", "scorers[0].options.schema_file", "cannot read schema file"),
        ("          schema: {type: 5}", "scorers[0].options.schema", "not a valid JSON Schema"),
        ('          schema: {"$schema": [1]}', "scorers[0].options", "could not be checked"),
    ],
)
def test_scorer_options_are_checked_at_load_with_their_line(options: str, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string(SCORER + options + "\n", source="s.yaml")
    issue = issue_for(info.value, field, "a")
    assert issue.line == (9 if field.endswith("options") else 10) and issue.fix
    assert words in issue.message or words in issue.fix
