"""Malformed-config cases, part 1: the experiment's shape and its primary metric.

Weights, control, names and ids, unknown fields, models, unit, coverage, schedule, status, primary metric.
Each case: (case id, YAML, experiment, field, words the message contains, words the fix contains); ``#<``
marks the line the error must point at.
"""

from __future__ import annotations

HEAD = """\
experiments:
  - id: exp-a
"""

TWO_VARIANTS = """\
    variants:
      - {name: control, model: "simulated:strong-expensive", control: true}
      - {name: candidate, model: "simulated:fast-cheap"}
"""


Case = tuple[str, str, str | None, str | None, str, str]
# (case id, yaml, experiment, field, words the message contains, words the fix contains)
SHAPE_CASES: list[Case] = [
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
]
