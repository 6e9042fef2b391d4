"""Pydantic models for everything a user writes in an experiments YAML file.

Models are frozen and forbid unknown keys, so a typo is an error instead of a silently ignored setting.
Cross-field rules that need the whole file (mutual exclusion between experiments) live in ``loader.py``.
"""

from __future__ import annotations

__all__ = [
    "AgentModelSpec",
    "ExperimentSpec",
    "ExperimentStatus",
    "ExperimentsConfig",
    "GuardrailSpec",
    "MetricSpec",
    "NamespaceSpec",
    "PriceSpec",
    "ScorerSpec",
    "TelemetrySpec",
    "Unit",
    "VariantSpec",
]

import math
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$")]
"""Lower-case letters, digits, '-' and '_'; starts and ends with a letter or digit; at most 64 characters."""

ModelId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+:[^\s]+$", max_length=200)]
"""``provider:model``, e.g. ``simulated:fast-small`` or ``openai:gpt-5``."""

AgentName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s]+$")]

UNIT_KEY_DEFAULTS = {"session": "session_id", "user": "user_id", "request": "request_id"}


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Unit(StrEnum):
    """The unit of randomization: every request of one unit gets the same variant."""

    SESSION = "session"
    USER = "user"
    REQUEST = "request"


class ExperimentStatus(StrEnum):
    """Lifecycle state. The YAML gives the initial state; the store holds the live one."""

    RUNNING = "running"
    PAUSED = "paused"  # no new enrollment; units already assigned keep their variant
    ROLLED_BACK = "rolled_back"  # every unit is routed to control
    SHIPPED = "shipped"  # every unit is routed to the winning variant
    STOPPED = "stopped"  # nobody is enrolled; every agent uses its default model


class VariantSpec(_Spec):
    """One arm of an experiment."""

    name: Slug
    model: ModelId
    params: dict[str, Any] = Field(default_factory=dict)
    weight: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    control: bool = False
    agent_models: dict[AgentName, ModelId] = Field(default_factory=dict)
    """Per-agent model overrides inside this variant (e.g. a different judge model for one agent)."""

    def model_for(self, agent: str | None) -> str:
        """The model id this variant gives ``agent``."""
        if agent is not None and agent in self.agent_models:
            return self.agent_models[agent]
        return self.model


class NamespaceSpec(_Spec):
    """A GrowthBook-style namespace: experiments in one namespace with disjoint ranges never share a unit."""

    name: Slug
    range: tuple[float, float]

    @field_validator("range")
    @classmethod
    def _check_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not (0.0 <= low < high <= 1.0):
            raise ValueError("range must be [start, end) with 0 <= start < end <= 1")
        return value


class MetricSpec(_Spec):
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
    """Non-inferiority margin (required for ``test: non_inferiority``)."""
    margin_relative: bool = False
    baseline: float | None = Field(default=None, allow_inf_nan=False)
    """Expected control value, for the sample-size plan."""
    baseline_sd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, gt=0.5, lt=1)
    covariate: str | None = None
    """Pre-period metric for CUPED variance reduction."""

    @model_validator(mode="after")
    def _check(self) -> MetricSpec:
        if self.test == "non_inferiority" and self.margin is None:
            raise ValueError("test 'non_inferiority' needs a 'margin'")
        if self.kind == "ratio" and self.denominator is None:
            raise ValueError("kind 'ratio' needs a 'denominator' metric")
        if self.kind == "binary" and self.baseline is not None and not 0 < self.baseline < 1:
            raise ValueError("a binary metric's baseline must be a rate strictly between 0 and 1")
        return self


class GuardrailSpec(_Spec):
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
            raise ValueError(
                "a guardrail needs a bound: max_ratio_to_control, min_ratio_to_control, max or min"
            )
        return self


class PriceSpec(_Spec):
    """USD per one million tokens; overrides genai-prices for one model id."""

    input: float = Field(ge=0, allow_inf_nan=False)
    output: float = Field(ge=0, allow_inf_nan=False)
    cached_input: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class ScorerSpec(_Spec):
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


class TelemetrySpec(_Spec):
    """Telemetry options a config may set."""

    capture_content: bool = False
    """Record prompts and responses on spans (off by default; also enabled by the OTel env var)."""


class AgentModelSpec(_Spec):
    """The model an agent uses when no experiment applies to it."""

    model: ModelId
    params: dict[str, Any] = Field(default_factory=dict)


class ExperimentSpec(_Spec):
    """One experiment: who is enrolled, which variants they get, and how the result is judged."""

    id: Slug
    description: str = ""
    unit: Unit = Unit.SESSION
    unit_key: str | None = Field(default=None, min_length=1, max_length=128)
    """State key holding the unit id (default: session_id / user_id / request_id by unit)."""
    variants: tuple[VariantSpec, ...] = Field(min_length=2)
    scope: tuple[AgentName, ...] = ()
    """Agents the experiment applies to; empty means every agent."""
    salt: str | None = Field(default=None, min_length=1, max_length=256)
    """Hash seed (default: the experiment id). Changing it reshuffles every unit not yet stored."""
    coverage: float = Field(default=1.0, ge=0, le=1, allow_inf_nan=False)
    namespace: NamespaceSpec | None = None
    start: datetime | None = None
    end: datetime | None = None
    status: ExperimentStatus = ExperimentStatus.RUNNING
    primary_metric: MetricSpec | None = None
    secondary_metrics: tuple[MetricSpec, ...] = ()
    guardrails: tuple[GuardrailSpec, ...] = ()
    segments: tuple[str, ...] = ()
    """State keys whose values split the analysis (e.g. ``tier``)."""
    scorers: tuple[ScorerSpec, ...] = ()
    prices: dict[ModelId, PriceSpec] = Field(default_factory=dict)
    review: Literal["required", "none"] = "none"
    sticky_ttl_days: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @field_validator("variants")
    @classmethod
    def _normalise_weights(cls, variants: tuple[VariantSpec, ...]) -> tuple[VariantSpec, ...]:
        names = [v.name for v in variants]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"variant names must be unique; repeated: {', '.join(dupes)}")
        controls = [v.name for v in variants if v.control]
        if len(controls) != 1:
            found = ", ".join(controls) if controls else "none"
            raise ValueError(f"exactly one variant must have 'control: true' (found: {found})")
        weights = [v.weight for v in variants]
        if all(w is None for w in weights):
            share = 1.0 / len(variants)
            return tuple(v.model_copy(update={"weight": share}) for v in variants)
        if any(w is None for w in weights):
            raise ValueError("give a weight to every variant or to none (equal split)")
        total = math.fsum(w for w in weights if w is not None)
        if math.isclose(total, 1.0, abs_tol=1e-6):
            scale = 1.0
        elif math.isclose(total, 100.0, abs_tol=1e-4):
            scale = 100.0
        else:
            raise ValueError(f"weights must sum to 1 (0.8/0.2) or to 100 (80/20); they sum to {total:g}")
        return tuple(v.model_copy(update={"weight": (v.weight or 0.0) / scale}) for v in variants)

    @model_validator(mode="after")
    def _check_window(self) -> ExperimentSpec:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("'end' must be after 'start'")
        return self

    @property
    def seed(self) -> str:
        """The hash seed: ``salt`` or the experiment id."""
        return self.salt if self.salt is not None else self.id

    @property
    def state_key(self) -> str:
        """The graph-state key holding the unit id."""
        return self.unit_key or UNIT_KEY_DEFAULTS[self.unit.value]

    @property
    def control(self) -> VariantSpec:
        """The control variant."""
        return next(v for v in self.variants if v.control)

    @property
    def weights(self) -> tuple[float, ...]:
        """Normalised weights (sum to 1), in variant order."""
        return tuple(v.weight or 0.0 for v in self.variants)

    def variant(self, name: str) -> VariantSpec:
        """The variant called ``name`` (KeyError if none)."""
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)

    def applies_to(self, agent: str | None) -> bool:
        """Whether the experiment routes ``agent`` (an empty scope means every agent)."""
        return not self.scope or (agent is not None and agent in self.scope)


class ExperimentsConfig(_Spec):
    """Everything loaded from one or more YAML files."""

    version: Literal[1] = 1
    default_model: AgentModelSpec | None = None
    """The model of any agent that has no entry in ``agents`` and no experiment applying to it."""
    agents: dict[AgentName, AgentModelSpec] = Field(default_factory=dict)
    prices: dict[ModelId, PriceSpec] = Field(default_factory=dict)
    telemetry: TelemetrySpec = Field(default_factory=TelemetrySpec)
    simulated_profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Extra simulated-provider profiles (see ``routing_agent.providers.simulated``)."""
    experiments: tuple[ExperimentSpec, ...] = ()
    sources: tuple[str, ...] = ()
    """Files these specs were loaded from (filled by the loader)."""

    def __iter__(self) -> Iterator[ExperimentSpec]:  # type: ignore[override]
        return iter(self.experiments)

    def __len__(self) -> int:
        return len(self.experiments)

    def get(self, experiment_id: str) -> ExperimentSpec:
        """The experiment with this id; raises ``ExperimentNotFound``."""
        for spec in self.experiments:
            if spec.id == experiment_id:
                return spec
        from routing_agent.errors import ExperimentNotFound

        known = ", ".join(s.id for s in self.experiments) or "none"
        raise ExperimentNotFound(f"no experiment '{experiment_id}' (known: {known})")

    def default_for(self, agent: str | None) -> AgentModelSpec | None:
        """The agent's default model: its ``agents`` entry, else ``default_model``."""
        if agent is not None and agent in self.agents:
            return self.agents[agent]
        return self.default_model

    def price_for(self, model_id: str, experiment_id: str | None = None) -> PriceSpec | None:
        """A YAML price override for ``model_id`` (experiment-level first), or None."""
        if experiment_id is not None:
            for spec in self.experiments:
                if spec.id == experiment_id and model_id in spec.prices:
                    return spec.prices[model_id]
        return self.prices.get(model_id)
