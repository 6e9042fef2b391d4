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
    "SpecProblem",
    "TelemetrySpec",
    "Unit",
    "VariantSpec",
]

import math
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from routing_agent.config.checks import profiles_checks
from routing_agent.config.fields import (
    UNIT_KEY_DEFAULTS,
    AgentName,
    ModelId,
    ModelParams,
    Slug,
    StrictModel,
)
from routing_agent.config.measures import GuardrailSpec, MetricSpec, ScorerSpec
from routing_agent.config.rules import (
    SpecProblem,
    duplicate_names,
    rescaled,
    variant_problems,
)
from routing_agent.config.segments import SegmentSource, split_segments
from routing_agent.config.targeting import RampSpec, TargetRule, targeting_problems


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


class VariantSpec(StrictModel):
    """One arm of an experiment."""

    name: Slug
    model: ModelId
    params: ModelParams = Field(default_factory=dict)
    weight: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    control: bool = False
    agent_models: dict[AgentName, ModelId] = Field(default_factory=dict)
    """Per-agent model overrides inside this variant (e.g. a different judge model for one agent)."""

    def model_for(self, agent: str | None) -> str:
        """The model id this variant gives ``agent``."""
        if agent is not None and agent in self.agent_models:
            return self.agent_models[agent]
        return self.model


class NamespaceSpec(StrictModel):
    """A GrowthBook-style namespace: experiments in one namespace with disjoint ranges never share a unit."""

    name: Slug
    range: tuple[float, float]

    @field_validator("range")
    @classmethod
    def _check_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not (0.0 <= low < high <= 1.0):
            raise SpecProblem(
                f"range [{low:g}, {high:g}] is not a slice of [0, 1] with start < end",
                fix="write range: [start, end] with 0 <= start < end <= 1, e.g. [0, 0.5]",
            )
        return value


class PriceSpec(StrictModel):
    """USD per one million tokens; overrides genai-prices for one model id."""

    input: float = Field(ge=0, allow_inf_nan=False)
    output: float = Field(ge=0, allow_inf_nan=False)
    cached_input: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class TelemetrySpec(StrictModel):
    """Telemetry options a config may set."""

    capture_content: bool = False
    """Record prompts and responses on spans (off by default; also enabled by the OTel env var)."""


class AgentModelSpec(StrictModel):
    """The model an agent uses when no experiment applies to it."""

    model: ModelId
    params: ModelParams = Field(default_factory=dict)


class ExperimentSpec(StrictModel):
    """One experiment: who is enrolled, which variants they get, and how the result is judged."""

    id: Slug
    description: str = ""
    unit: Unit = Unit.SESSION
    unit_key: str | None = Field(default=None, min_length=1, max_length=128)
    """State key (or run-context field) holding the unit id (default: session_id / user_id / request_id)."""
    unit_source: Literal["state", "thread_id", "context"] = "state"
    """Where the unit id lives: a state key (``unit_key``), LangGraph's
    ``config["configurable"]["thread_id"]``, or a field of the run context (``context_schema`` /
    ``Runtime.context``) named by ``unit_key``."""
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
    """Segment names whose values split the analysis: state keys (``tier``), or names given to an agent's
    output (``{name: category, from: classifier.category}``, see ``config.segments``)."""
    segment_sources: dict[str, SegmentSource] = Field(default_factory=dict)
    """Segments read from an agent's output: name → source (filled from ``segments`` items with ``from``)."""
    scorers: tuple[ScorerSpec, ...] = ()
    prices: dict[ModelId, PriceSpec] = Field(default_factory=dict)
    review: Literal["required", "none"] = "none"
    sticky_ttl_days: float | None = Field(default=None, ge=1 / 24, le=3650, allow_inf_nan=False)
    """How long a unit keeps its variant: from one hour (shorter re-randomizes units mid-experiment and
    inflates assignment counts) to ten years (longer overflows store TTLs)."""
    targeting: tuple[TargetRule, ...] = ()
    """Conditions → a forced variant or no enrolment (first match wins; see ``config.targeting``)."""
    ramp: RampSpec | None = None
    """Progressive exposure of the candidate(s), advanced by ``watch`` while every guardrail holds."""

    _segment_sources = model_validator(mode="before")(split_segments)

    @field_validator("variants")
    @classmethod
    def _normalise_weights(cls, variants: tuple[VariantSpec, ...]) -> tuple[VariantSpec, ...]:
        problems = variant_problems(variants)
        weights = [v.weight for v in variants]
        scale = 1.0
        if all(w is None for w in weights):
            SpecProblem.raise_all(problems)
            share = 1.0 / len(variants)
            return tuple(v.model_copy(update={"weight": share}) for v in variants)
        if any(w is None for w in weights):
            problems.extend(
                SpecProblem(
                    f"variant '{v.name}' has no weight while other variants do",
                    fix="give every variant a weight (e.g. 80 and 20), or none for an equal split",
                    loc=(i,),
                )
                for i, v in enumerate(variants)
                if v.weight is None
            )
        else:
            try:
                total = math.fsum(w for w in weights if w is not None)
            except OverflowError:  # e.g. 1e308 + 1e308
                total = math.inf
            if math.isclose(total, 100.0, abs_tol=1e-4):
                scale = 100.0
            elif not math.isclose(total, 1.0, abs_tol=1e-6):
                problems.append(
                    SpecProblem(
                        f"weights sum to {total:g}; they must sum to 100 (80/20) or to 1 (0.8/0.2)",
                        fix=f"adjust the weights, e.g. {rescaled(weights)}",
                    )
                )
            problems.extend(
                SpecProblem(
                    f"control '{v.name}' has weight 0, so the test has nothing to compare against",
                    fix="give the control a share of the traffic, e.g. 80 (control) and 20 (candidate)",
                    loc=(i, "weight"),
                )
                for i, v in enumerate(variants)
                if v.control and v.weight == 0
            )
        SpecProblem.raise_all(problems)
        return tuple(v.model_copy(update={"weight": (v.weight or 0.0) / scale}) for v in variants)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _parse_time(cls, value: Any) -> Any:
        if value is None or isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime.combine(value, time(), tzinfo=UTC)
        if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
            return value.strip() + "T00:00:00Z"
        if isinstance(value, str):
            return value
        raise SpecProblem(
            f"expected a date or date-time, got {value!r}",
            fix="write an ISO 8601 date or date-time, e.g. 2026-05-01 or 2026-05-01T09:00:00Z",
        )

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """Times without an offset are UTC, so every start/end compares with every other."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _check_window(self) -> ExperimentSpec:
        problems: list[SpecProblem] = []
        if self.start is not None and self.end is not None and self.end <= self.start:
            problems.append(
                SpecProblem(
                    f"'end' ({self.end.isoformat()}) is not after 'start' ({self.start.isoformat()})",
                    fix="set end later than start, or remove end to run until stopped",
                    loc=("end",),
                )
            )
        seen: set[str] = set()
        for i, agent in enumerate(self.scope):
            if agent in seen:
                problems.append(
                    SpecProblem(f"agent '{agent}' is listed twice", fix="remove the repeat", loc=("scope", i))
                )
            seen.add(agent)
        for i, variant in enumerate(self.variants):
            for agent in variant.agent_models:
                if self.scope and agent not in self.scope:
                    problems.append(
                        SpecProblem(
                            f"agent '{agent}' is not in scope ({', '.join(self.scope)}), so this override "
                            "would never be used",
                            fix=f"add '{agent}' to scope or remove the override",
                            loc=("variants", i, "agent_models", agent),
                        )
                    )
        problems.extend(self._unit_source_problems())
        weights = {v.name: v.weight or 0.0 for v in self.variants}
        control = next((v.name for v in self.variants if v.control), "")
        problems.extend(targeting_problems(self.targeting, self.ramp, weights, control))
        problems.extend(duplicate_names(self))
        SpecProblem.raise_all(problems)
        return self

    def _unit_source_problems(self) -> list[SpecProblem]:
        if self.unit_source != "thread_id":
            return []
        problems: list[SpecProblem] = []
        if self.unit is Unit.REQUEST:
            problems.append(
                SpecProblem(
                    "unit 'request' cannot come from the thread id: a thread spans many requests",
                    fix="use unit: session (or user) with unit_source: thread_id, or unit_source: state",
                    loc=("unit_source",),
                )
            )
        if self.unit_key is not None:
            problems.append(
                SpecProblem(
                    f"unit_key '{self.unit_key}' is ignored when the unit id is the thread id",
                    fix="remove unit_key, or use unit_source: state / context to read that key",
                    loc=("unit_key",),
                )
            )
        return problems

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


class ExperimentsConfig(StrictModel):
    """Everything loaded from one or more YAML files."""

    version: Literal[1] = 1
    default_model: AgentModelSpec | None = None
    """The model of any agent that has no entry in ``agents`` and no experiment applying to it."""
    agents: dict[AgentName, AgentModelSpec] = Field(default_factory=dict)
    prices: dict[ModelId, PriceSpec] = Field(default_factory=dict)
    telemetry: TelemetrySpec = Field(default_factory=TelemetrySpec)
    simulated_profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Extra simulated-provider profiles (see ``routing_agent.providers.simulated``)."""

    @field_validator("simulated_profiles")
    @classmethod
    def _check_profiles(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        # A dry run when the config loads: ``validate`` catches what ``RoutingNode`` would refuse. The
        # checks come from ``routing_agent.providers`` (registered in ``config.checks``).
        if value:
            SpecProblem.raise_all(
                [
                    SpecProblem(issue.message, fix=issue.fix, loc=tuple((issue.field or "").split(".")[1:]))
                    for check in profiles_checks()
                    for issue in check(value)
                ]
            )
        return value

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
