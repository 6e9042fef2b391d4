"""Malformed configs: each error names file, line, experiment and field, says what is wrong and how to fix it.

Every case is a YAML file; ``#<`` marks the line the error must point at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.support import dedent, issue_for, load_error, marked_line, write

HEAD = """\
experiments:
  - id: exp-a
"""

TWO_VARIANTS = """\
    variants:
      - {name: control, model: "simulated:strong-expensive", control: true}
      - {name: candidate, model: "simulated:fast-cheap"}
"""

# (case id, yaml, experiment, field, words the message contains, words the fix contains)
CASES: list[tuple[str, str, str | None, str | None, str, str]] = [
    (
        "weights-sum-wrong",
        HEAD
        + """\
    variants:  #<
      - {name: control, model: "simulated:a", weight: 80, control: true}
      - {name: candidate, model: "simulated:b", weight: 10}
""",
        "exp-a",
        "variants",
        "sum to 90",
        "89/11",
    ),
    (
        "weight-negative",
        HEAD
        + """\
    variants:
      - {name: control, model: "simulated:a", weight: 120, control: true}
      - {name: candidate, model: "simulated:b", weight: -20}  #<
""",
        "exp-a",
        "variants[1].weight",
        "must be >= 0",
        "sum to 100",
    ),
    (
        "weight-percent-string",
        HEAD
        + """\
    variants:
      - name: control
        model: simulated:a
        weight: 80%
        control: true
      - name: candidate
        model: simulated:b
        weight: 20%  #<
""",
        "exp-a",
        "variants[1].weight",
        "expected a number",
        "write 20",
    ),
    (
        "weight-missing-on-one",
        HEAD
        + """\
    variants:
      - {name: control, model: "simulated:a", weight: 80, control: true}
      - {name: candidate, model: "simulated:b"}  #<
""",
        "exp-a",
        "variants[1]",
        "no weight",
        "every variant a weight",
    ),
    (
        "no-control",
        HEAD
        + """\
    variants:  #<
      - {name: control, model: "simulated:a"}
      - {name: candidate, model: "simulated:b"}
""",
        "exp-a",
        "variants",
        "control: true",
        "add control: true",
    ),
    (
        "two-controls",
        HEAD
        + """\
    variants:
      - {name: control, model: "simulated:a", control: true}
      - {name: candidate, model: "simulated:b", control: true}  #<
""",
        "exp-a",
        "variants[1].control",
        "already the control",
        "one variant only",
    ),
    (
        "duplicate-variant-names",
        HEAD
        + """\
    variants:
      - {name: control, model: "simulated:a", control: true}
      - {name: control, model: "simulated:b"}  #<
""",
        "exp-a",
        "variants[1].name",
        "already used by variants[0]",
        "its own name",
    ),
    (
        "one-variant",
        HEAD
        + """\
    variants:  #<
      - {name: control, model: "simulated:a", control: true}
""",
        "exp-a",
        "variants",
        "at least 2 variants",
        "add a variant",
    ),
    (
        "id-not-slug",
        """\
experiments:
  - id: Support Haiku  #<
"""
        + TWO_VARIANTS,
        "Support Haiku",
        "id",
        "not a valid id",
        "support-haiku",
    ),
    (
        "id-missing",
        """\
experiments:
  - description: no id  #<
"""
        + TWO_VARIANTS,
        "experiments[0]",
        "id",
        "'id' is required",
        "add id:",
    ),
    (
        "variant-field-typo",
        HEAD
        + """\
    variants:
      - {name: control, model: "simulated:a", control: true}
      - name: candidate
        model: simulated:b
        wieght: 20  #<
""",
        "exp-a",
        "variants[1].wieght",
        "unknown field 'wieght'",
        "did you mean 'weight'",
    ),
    (
        "experiment-field-typo",
        HEAD
        + TWO_VARIANTS
        + """\
    scoep: [drafter]  #<
""",
        "exp-a",
        "scoep",
        "unknown field 'scoep'",
        "did you mean 'scope'",
    ),
    (
        "top-level-typo",
        """\
experiment:  #<
  - id: exp-a
""",
        None,
        "experiment",
        "unknown top-level key",
        "did you mean 'experiments'",
    ),
    (
        "experiment-field-at-top-level",
        """\
experiments: []
scope: [drafter]  #<
""",
        None,
        "scope",
        "unknown top-level key",
        "belongs to an experiment",
    ),
    (
        "model-without-provider",
        HEAD
        + """\
    variants:
      - {name: control, model: gpt5, control: true}  #<
      - {name: candidate, model: "simulated:b"}
""",
        "exp-a",
        "variants[0].model",
        "provider:model",
        "openai:gpt5",
    ),
    (
        "model-with-space",
        HEAD
        + """\
    variants:
      - {name: control, model: "simulated:a", control: true}
      - {name: candidate, model: "openai:gpt 5"}  #<
""",
        "exp-a",
        "variants[1].model",
        "provider:model",
        "no spaces",
    ),
    (
        "unit-unknown",
        HEAD
        + """\
    unit: sesion  #<
"""
        + TWO_VARIANTS,
        "exp-a",
        "unit",
        "must be one of",
        "did you mean 'session'",
    ),
    (
        "coverage-above-one",
        HEAD
        + """\
    coverage: 1.5  #<
"""
        + TWO_VARIANTS,
        "exp-a",
        "coverage",
        "must be <= 1",
        "between 0 and 1",
    ),
    (
        "end-before-start",
        HEAD
        + TWO_VARIANTS
        + """\
    start: 2026-06-01
    end: 2026-05-01  #<
""",
        "exp-a",
        "end",
        "is not after 'start'",
        "end later than start",
    ),
    (
        "start-is-a-number",
        HEAD
        + TWO_VARIANTS
        + """\
    start: 5  #<
""",
        "exp-a",
        "start",
        "date or date-time",
        "2026-05-01",
    ),
    (
        "status-unknown",
        HEAD
        + TWO_VARIANTS
        + """\
    status: live  #<
""",
        "exp-a",
        "status",
        "must be one of",
        "running",
    ),
    (
        "primary-metric-missing-mde",
        HEAD
        + TWO_VARIANTS
        + """\
    primary_metric:  #<
      name: resolved
""",
        "exp-a",
        "primary_metric.mde",
        "'mde' is required",
        "0.02",
    ),
    (
        "primary-metric-kind-typo",
        HEAD
        + TWO_VARIANTS
        + """\
    primary_metric:
      name: resolved
      kind: binery  #<
      mde: 0.02
""",
        "exp-a",
        "primary_metric.kind",
        "must be one of",
        "did you mean 'binary'",
    ),
    (
        "binary-baseline-as-percent",
        HEAD
        + TWO_VARIANTS
        + """\
    primary_metric:
      name: resolved
      mde: 0.02
      baseline: 87  #<
""",
        "exp-a",
        "primary_metric.baseline",
        "strictly between 0 and 1",
        "baseline: 0.87",
    ),
    (
        "non-inferiority-without-margin",
        HEAD
        + TWO_VARIANTS
        + """\
    primary_metric:  #<
      name: resolved
      test: non_inferiority
      mde: 0.02
""",
        "exp-a",
        "primary_metric.margin",
        "needs a 'margin'",
        "margin: 0.02",
    ),
    (
        "ratio-without-denominator",
        HEAD
        + TWO_VARIANTS
        + """\
    primary_metric:  #<
      name: cost_usd
      kind: ratio
      mde: 0.001
""",
        "exp-a",
        "primary_metric.denominator",
        "needs a 'denominator'",
        "denominator: calls",
    ),
    (
        "guardrail-without-bound",
        HEAD
        + TWO_VARIANTS
        + """\
    guardrails:
      - metric: latency_s  #<
        statistic: p95
""",
        "exp-a",
        "guardrails[0]",
        "has no bound",
        "max_ratio_to_control",
    ),
    (
        "guardrail-statistic-unknown",
        HEAD
        + TWO_VARIANTS
        + """\
    guardrails:
      - metric: latency_s
        statistic: p97  #<
        max_ratio_to_control: 1.3
""",
        "exp-a",
        "guardrails[0].statistic",
        "must be one of",
        "p95",
    ),
    (
        "guardrail-min-above-max",
        HEAD
        + TWO_VARIANTS
        + """\
    guardrails:
      - metric: json_valid
        min: 0.9  #<
        max: 0.5
""",
        "exp-a",
        "guardrails[0].min",
        "every value breaches it",
        "min <= max",
    ),
    (
        "guardrail-agent-not-in-scope",
        HEAD
        + TWO_VARIANTS
        + """\
    scope: [drafter, resolver]
    guardrails:
      - metric: latency_s
        max_ratio_to_control: 1.3
        agent: resolvr  #<
""",
        "exp-a",
        "guardrails[0].agent",
        "neither in this experiment's scope",
        "did you mean 'resolver'",
    ),
    (
        "primary-metric-agent-not-in-scope",
        HEAD
        + TWO_VARIANTS
        + """\
    scope: [drafter]
    primary_metric:
      name: resolved
      mde: 0.02
      agent: classifier  #<
""",
        "exp-a",
        "primary_metric.agent",
        "neither in this experiment's scope",
        "Add 'classifier' to scope",
    ),
    (
        "scorer-agent-not-in-scope",
        HEAD
        + TWO_VARIANTS
        + """\
    scope: [drafter]
    scorers:
      - name: exact_answer
        type: exact
        agent: drafterr  #<
""",
        "exp-a",
        "scorers[0].agent",
        "neither in this experiment's scope",
        "did you mean 'drafter'",
    ),
    (
        "scorer-type-unknown",
        HEAD
        + TWO_VARIANTS
        + """\
    scorers:
      - name: quality
        type: judge  #<
""",
        "exp-a",
        "scorers[0].type",
        "must be one of",
        "judge_likert",
    ),
    (
        "duplicate-scorer-names",
        HEAD
        + TWO_VARIANTS
        + """\
    scorers:
      - {name: quality, type: exact}
      - {name: quality, type: fuzzy}  #<
""",
        "exp-a",
        "scorers[1].name",
        "already used",
        "its own name",
    ),
    (
        "price-key-not-a-model-id",
        HEAD
        + TWO_VARIANTS
        + """\
    prices:
      gpt-5: {input: 10, output: 40}  #<
""",
        "exp-a",
        "prices.gpt-5",
        "key 'gpt-5' is not a model id",
        "openai:gpt-5",
    ),
    (
        "price-negative",
        HEAD
        + TWO_VARIANTS
        + """\
    prices:
      openai:gpt-5: {input: -10, output: 40}  #<
""",
        "exp-a",
        "prices['openai:gpt-5'].input",
        "must be >= 0",
        "USD per million",
    ),
    (
        "namespace-range-reversed",
        HEAD
        + TWO_VARIANTS
        + """\
    namespace:
      name: support
      range: [0.5, 0.2]  #<
""",
        "exp-a",
        "namespace.range",
        "start < end",
        "[0, 0.5]",
    ),
    (
        "salt-is-a-number",
        HEAD
        + TWO_VARIANTS
        + """\
    salt: 2026  #<
""",
        "exp-a",
        "salt",
        "expected text",
        "quotes",
    ),
    (
        "review-yes-is-a-boolean",
        HEAD
        + TWO_VARIANTS
        + """\
    review: yes  #<
""",
        "exp-a",
        "review",
        "YAML reads yes/no/on/off",
        "review: required",
    ),
    (
        "control-not-boolean",
        HEAD
        + """\
    variants:
      - {name: control, model: "simulated:a", control: maybe}  #<
      - {name: candidate, model: "simulated:b"}
""",
        "exp-a",
        "variants[0].control",
        "true or false",
        "write true or false",
    ),
    (
        "variants-is-a-mapping",
        HEAD
        + """\
    variants:  #<
      control: {model: "simulated:a"}
""",
        "exp-a",
        "variants",
        "expected a list",
        "at least two variants",
    ),
    (
        "experiments-is-a-mapping",
        """\
experiments:  #<
  exp-a: {}
""",
        None,
        "experiments",
        "must be a list",
        "- id:",
    ),
    (
        "experiment-is-text",
        """\
experiments:
  - exp-a  #<
""",
        "experiments[0]",
        None,
        "must be a mapping",
        "- id:",
    ),
    (
        "agent-override-outside-scope",
        HEAD
        + """\
    scope: [drafter]
    variants:
      - {name: control, model: "simulated:a", control: true}
      - name: candidate
        model: simulated:b
        agent_models:
          resolver: simulated:c  #<
""",
        "exp-a",
        "variants[1].agent_models.resolver",
        "never be used",
        "add 'resolver' to scope",
    ),
    (
        "scope-repeats-agent",
        HEAD
        + TWO_VARIANTS
        + """\
    scope:
      - drafter
      - drafter  #<
""",
        "exp-a",
        "scope[1]",
        "listed twice",
        "remove the repeat",
    ),
    (
        "sticky-ttl-zero",
        HEAD
        + TWO_VARIANTS
        + """\
    sticky_ttl_days: 0  #<
""",
        "exp-a",
        "sticky_ttl_days",
        "must be > 0",
        "sticky_ttl_days",
    ),
    (
        "agents-section-bad-model",
        """\
agents:
  drafter: {model: "simulated"}  #<
experiments: []
""",
        None,
        "agents.drafter.model",
        "provider:model",
        "simulated:simulated",
    ),
    (
        "duplicate-key",
        HEAD
        + """\
    variants:
      - name: control
        model: simulated:a
        control: true
        model: simulated:b  #<
      - {name: candidate, model: "simulated:c"}
""",
        "exp-a",
        "variants[0].model",
        "appears twice",
        "delete one",
    ),
    (
        "duplicate-experiment-id",
        HEAD
        + TWO_VARIANTS
        + """\
    scope: [drafter]
  - id: exp-a  #<
    scope: [resolver]
"""
        + TWO_VARIANTS,
        "exp-a",
        "id",
        "already used at",
        "its own id",
    ),
    (
        "overlapping-experiments",
        HEAD
        + TWO_VARIANTS
        + """\
    scope: [drafter, resolver]
  - id: exp-b  #<
    scope: [resolver]
"""
        + TWO_VARIANTS,
        "exp-b",
        "namespace",
        "both route resolver",
        "namespace: {name: exp-a-vs-exp-b",
    ),
]


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("text", "experiment", "field", "message", "fix"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_malformed_config_names_file_line_experiment_field_and_fix(
    tmp_path: Path, text: str, experiment: str | None, field: str | None, message: str, fix: str
) -> None:
    text = dedent(text)
    path = write(tmp_path, text)
    error = load_error(path)
    issue = issue_for(error, field, experiment)
    assert issue.file == str(path)
    assert issue.line == marked_line(text), str(error)
    assert issue.experiment == experiment
    assert message in issue.message, issue.message
    assert issue.fix and fix in issue.fix, issue.fix
    rendered = str(error)  # the exception text names all of it too
    assert f"{path}:{issue.line}" in rendered
    if field is not None:
        assert f"field '{field}'" in rendered
