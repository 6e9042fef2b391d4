"""What an experiment measures: the primary metric, guardrails and scorers."""

from __future__ import annotations

__all__ = ["GuardrailSpec", "MetricSpec", "ScorerLimits", "ScorerSpec"]

from typing import Any, Literal

from pydantic import Field, model_validator

from routing_agent.config.fields import AgentName, StrictModel
from routing_agent.config.rules import SpecProblem, as_fraction


class MetricSpec(StrictModel):
    """The primary metric: the one number the decision is bet on."""

    name: str = Field(min_length=1, max_length=128)
    """Observation metric name (e.g. ``resolved``, ``json_valid``, ``judge_likert``, ``cost_usd``)."""
    kind: Literal["binary", "continuous", "ratio"] = "binary"
    direction: Literal["increase", "decrease"] = "increase"
    """Which way is better."""
    agent: AgentName | None = None
    """Only observations from this agent count (default: all agents)."""
    denominator: str | None = None
    """For ``kind: ratio``: the metric summed in the denominator per unit (e.g. ``calls``)."""
    test: Literal["superiority", "non_inferiority"] = "superiority"
    mde: float = Field(gt=0, allow_inf_nan=False)
    """Minimum detectable effect, absolute unless ``mde_relative``."""
    mde_relative: bool = False
    margin: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Non-inferiority margin: the largest loss accepted. Required for ``test: non_inferiority``; with
    ``test: superiority`` it gates the cheaper pick (without it a no-difference result stays on control)."""
    margin_relative: bool = False
    baseline: float | None = Field(default=None, allow_inf_nan=False)
    """Expected control value, for the sample-size plan."""
    baseline_sd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, gt=0.5, lt=1)
    covariate: str | None = None
    """Pre-period metric for CUPED variance reduction."""
    missing: Literal["failure", "exclude"] = "failure"
    """A unit assigned to an arm (seen in the assignment store or in any metric) without this metric's
    outcome: ``failure`` (default, intention to treat) counts it as the worst outcome — 0 for a binary
    metric where higher is better, 1 where lower is better, ``missing_value`` or else the worst per-unit
    value observed for a continuous one; ``exclude`` leaves it out. Differential attrition blocks a decision
    either way."""
    missing_value: float | None = Field(default=None, allow_inf_nan=False)
    """The outcome a missing unit counts as under ``missing: failure`` (default: the worst, see above)."""

    @model_validator(mode="after")
    def _check(self) -> MetricSpec:
        problems: list[SpecProblem] = []
        if self.test == "non_inferiority" and self.margin is None:
            problems.append(
                SpecProblem(
                    "test 'non_inferiority' needs a 'margin'",
                    fix="add margin: <how much worse is still acceptable>, e.g. margin: 0.02",
                    loc=("margin",),
                )
            )
        if self.kind == "ratio" and self.denominator is None:
            problems.append(
                SpecProblem(
                    "kind 'ratio' needs a 'denominator' metric",
                    fix="add denominator: <metric summed per unit>, e.g. denominator: calls",
                    loc=("denominator",),
                )
            )
        if self.kind == "binary" and self.baseline is not None and not 0 < self.baseline < 1:
            problems.append(
                SpecProblem(
                    f"a binary metric's baseline is a rate strictly between 0 and 1, not {self.baseline:g}",
                    fix=f"write the rate as a fraction, e.g. baseline: {as_fraction(self.baseline)}",
                    loc=("baseline",),
                )
            )
        problems.extend(self._missing_problems())
        SpecProblem.raise_all(problems)
        return self

    def _missing_problems(self) -> list[SpecProblem]:
        if self.missing_value is None:
            return []
        if self.missing == "exclude":
            return [
                SpecProblem(
                    "missing_value is only used with missing: failure, but missing is 'exclude'",
                    fix="remove missing_value, or set missing: failure",
                    loc=("missing_value",),
                )
            ]
        if self.kind == "binary" and self.missing_value not in (0.0, 1.0):
            return [
                SpecProblem(
                    f"a binary metric's missing_value is 0 or 1, not {self.missing_value:g}",
                    fix="write missing_value: 0 (a missing outcome is a failure) or 1",
                    loc=("missing_value",),
                )
            ]
        if self.kind == "ratio":
            return [
                SpecProblem(
                    "missing_value has no meaning for a ratio metric (a missing unit has no denominator)",
                    fix="remove missing_value; missing units of a ratio metric are left out and the "
                    "attrition check still runs",
                    loc=("missing_value",),
                )
            ]
        return []

    @property
    def failure_value(self) -> float | None:
        """The value a missing outcome counts as under ``missing: failure`` (None: the worst observed)."""
        if self.missing_value is not None:
            return self.missing_value
        if self.kind == "binary":
            return 0.0 if self.direction == "increase" else 1.0
        return None


class GuardrailSpec(StrictModel):
    """A metric that must not get materially worse; breaching it stops the test (seeds' stop rule)."""

    metric: str = Field(min_length=1, max_length=128)
    statistic: Literal["mean", "p50", "p90", "p95", "p99"] = "mean"
    agent: AgentName | None = None
    max_ratio_to_control: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Stop when test / control exceeds this (e.g. p95 latency 1.3)."""
    min_ratio_to_control: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Stop when test / control falls below this (e.g. resolution rate 0.95)."""
    max: float | None = Field(default=None, allow_inf_nan=False)
    """Stop when the test arm's value exceeds this absolute bound."""
    min: float | None = Field(default=None, allow_inf_nan=False)
    """Stop when the test arm's value falls below this absolute bound (e.g. JSON validity 0.90)."""
    min_sample: int = Field(default=200, ge=1)
    """Units per arm before this guardrail may stop the test."""
    action: Literal["rollback", "alert"] = "rollback"

    @model_validator(mode="after")
    def _check(self) -> GuardrailSpec:
        bounds = (self.max_ratio_to_control, self.min_ratio_to_control, self.max, self.min)
        if all(b is None for b in bounds):
            raise SpecProblem(
                f"guardrail '{self.metric}' has no bound, so it could never stop the test",
                fix="add one of max_ratio_to_control (e.g. 1.3), min_ratio_to_control, max or min",
            )
        problems: list[SpecProblem] = []
        for low_name, high_name in (("min_ratio_to_control", "max_ratio_to_control"), ("min", "max")):
            low, high = getattr(self, low_name), getattr(self, high_name)
            if low is not None and high is not None and low > high:
                problems.append(
                    SpecProblem(
                        f"{low_name} ({low:g}) is above {high_name} ({high:g}): every value breaches it",
                        fix=f"make {low_name} <= {high_name}",
                        loc=(low_name,),
                    )
                )
        SpecProblem.raise_all(problems)
        return self


class ScorerLimits(StrictModel):
    """Per-call bounds of an inline scorer: the graph never waits longer, and oversized input is refused."""

    timeout_s: float = Field(default=2.0, gt=0, le=600, allow_inf_nan=False)
    """Wall-clock budget of one score: past it the graph goes on and the score counts as ``timeout``."""
    max_chars: int = Field(default=100_000, ge=1, le=100_000_000)
    """Largest output, reference or input (characters) scored; larger ones count as ``oversize``."""


class ScorerSpec(StrictModel):
    """A scorer attached to an experiment: which agent's output, scored how, against which reference."""

    name: str = Field(min_length=1, max_length=128)
    """Metric name of the observations it produces."""
    type: Literal[
        "exact", "fuzzy", "json_fields", "json_schema", "judge_likert", "judge_pairwise", "citations"
    ]
    agent: AgentName | None = None
    output_field: str | None = None
    reference_field: str | None = None
    mode: Literal["inline", "offline"] = "inline"
    options: dict[str, Any] = Field(default_factory=dict)
    limits: ScorerLimits = Field(default_factory=ScorerLimits)
    """Time and size bounds of one score (inline and offline)."""
