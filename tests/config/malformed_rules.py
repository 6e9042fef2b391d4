"""Malformed-config cases, part 2: guardrails, scorers, prices, namespaces, YAML types, agents, overlaps.

Same layout as part 1 (``tests/config/malformed_cases.py``).
"""

from __future__ import annotations

from tests.config.malformed_cases import HEAD, TWO_VARIANTS, Case

RULE_CASES: list[Case] = [
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
        "must be >= 0.0416667",
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
