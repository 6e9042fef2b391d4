"""Simulated-model profiles: how good, fast, verbose, flaky and faithful a simulated model is.

A profile is declared in YAML. The shipped catalog (``profiles.yaml`` next to this module) has
``strong-expensive``, ``fast-cheap``, ``regressed``, ``slow-candidate`` and ``judge``; a config adds its own
under ``simulated_profiles:`` (``extends:`` copies a profile and overrides some fields)::

    simulated_profiles:
      my-candidate:
        extends: fast-cheap
        quality: {skill: 0.70}
        format: {date_slip_rate: 0.15}

``register_profiles(config.simulated_profiles)`` makes them resolvable as ``simulated:my-candidate``.
Every rate is a probability per call; every latency is in simulated seconds (see ``SimulatedChatModel``'s
``time_scale`` for how much of it is actually slept).
"""

from __future__ import annotations

__all__ = [
    "CitationSpec",
    "ErrorSpec",
    "FormatSpec",
    "LatencySpec",
    "OutputSpec",
    "ProfileRegistry",
    "QualitySpec",
    "SimulatedProfile",
    "profiles",
    "register_profiles",
]

import math
import threading
from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from routing_agent.config.spec import PriceSpec
from routing_agent.errors import ConfigError, ConfigIssue, ModelResolutionError

Rate = float


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QualitySpec(_Spec):
    """Probability of a correct answer as a logistic function of task difficulty (0 easy … 1 hard).

    ``p(d) = floor + (ceiling - floor) / (1 + exp(sharpness * (d - skill)))``: ``skill`` is the difficulty
    at which the model is right half-way between floor and ceiling; higher ``sharpness`` makes the drop
    steeper.
    """

    skill: float = Field(default=0.8, ge=-1.0, le=2.0, allow_inf_nan=False)
    sharpness: float = Field(default=8.0, gt=0, le=100, allow_inf_nan=False)
    ceiling: float = Field(default=0.99, ge=0, le=1)
    floor: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> QualitySpec:
        if self.floor > self.ceiling:
            raise ValueError("'floor' must not exceed 'ceiling'")
        return self

    def p_correct(self, difficulty: float) -> float:
        """Probability of a correct answer on a task of this difficulty."""
        z = self.sharpness * (difficulty - self.skill)
        z = min(max(z, -60.0), 60.0)
        return self.floor + (self.ceiling - self.floor) / (1.0 + math.exp(z))


class LatencySpec(_Spec):
    """Latency: time to first token plus per-token decoding, log-normal, with occasional spikes."""

    ttft_median_s: float = Field(default=0.5, ge=0, allow_inf_nan=False)
    ttft_sigma: float = Field(default=0.4, ge=0, le=3, allow_inf_nan=False)
    """Log-normal shape of the time to first token (0.4 ≈ p95/p50 of 1.9)."""
    per_input_token_s: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    """Prefill time added to the time to first token per input token."""
    per_output_token_s: float = Field(default=0.02, ge=0, allow_inf_nan=False)
    """Median decoding time per output token."""
    per_token_sigma: float = Field(default=0.2, ge=0, le=3, allow_inf_nan=False)
    """Log-normal shape of a call's decoding speed."""
    spike_rate: Rate = Field(default=0.01, ge=0, le=1)
    """Probability that a call is slowed by a spike (queueing, cold start, retries upstream)."""
    spike_multiplier: tuple[float, float] = (3.0, 8.0)
    """A spiked call's latency is multiplied by a factor drawn uniformly from this range."""

    @model_validator(mode="after")
    def _check(self) -> LatencySpec:
        low, high = self.spike_multiplier
        if not 1.0 <= low <= high:
            raise ValueError("'spike_multiplier' must be [low, high] with 1 <= low <= high")
        return self


class OutputSpec(_Spec):
    """Output length of free-text answers."""

    verbosity: float = Field(default=1.0, gt=0, le=10, allow_inf_nan=False)
    """Multiplies the length a task asks for (an oracle's ``target_tokens``, else ``default_tokens``)."""
    length_sigma: float = Field(default=0.3, ge=0, le=3, allow_inf_nan=False)
    default_tokens: int = Field(default=80, ge=1)
    max_tokens: int = Field(default=2048, ge=1)
    """Hard cap; longer answers are cut with ``finish_reason: length`` (a ``max_tokens`` param lowers it)."""


class ErrorSpec(_Spec):
    """Per-call probability of each provider error (raised as LangChain's standard ``ModelError`` types)."""

    rate_limit: Rate = Field(default=0.0, ge=0, le=1)
    """HTTP 429 → ``ModelRateLimitError``."""
    server: Rate = Field(default=0.0, ge=0, le=1)
    """HTTP 500 → ``ModelAPIError``."""
    overloaded: Rate = Field(default=0.0, ge=0, le=1)
    """HTTP 529/503 → ``ModelAPIError``."""
    connection: Rate = Field(default=0.0, ge=0, le=1)
    """Connection reset → ``ModelConnectionError``."""

    @model_validator(mode="after")
    def _check(self) -> ErrorSpec:
        if self.rate_limit + self.server + self.overloaded + self.connection > 1.0:
            raise ValueError("error rates must sum to at most 1")
        return self


class FormatSpec(_Spec):
    """How often structured output comes out wrong in form (not in content)."""

    json_slip_rate: Rate = Field(default=0.0, ge=0, le=1)
    """Malformed JSON (trailing comma, truncation, single quotes, unquoted key)."""
    fence_rate: Rate = Field(default=0.0, ge=0, le=1)
    """JSON text wrapped in a Markdown code fence (tolerant parsers accept it, ``json.loads`` does not)."""
    date_slip_rate: Rate = Field(default=0.0, ge=0, le=1)
    """Dates written in ``date_slip_format`` instead of the ISO format the prompt asked for."""
    date_slip_format: str = "%m/%d/%Y"


class CitationSpec(_Spec):
    """Which retrieved sources a cited answer names.

    A correct answer cites the sources that support it; ``drift_rate`` replaces one of them with another
    retrieved source, ``extra_rate`` adds an unneeded one, ``omit_rate`` drops all citations. The draws are
    shared across profiles, so two profiles with the same rates cite the same sources on the same input and
    a candidate with a higher ``drift_rate`` drifts from the control on (about) that share of inputs.
    """

    drift_rate: Rate = Field(default=0.0, ge=0, le=1)
    extra_rate: Rate = Field(default=0.05, ge=0, le=1)
    omit_rate: Rate = Field(default=0.0, ge=0, le=1)
    max_citations: int = Field(default=3, ge=1)


class SimulatedProfile(_Spec):
    """One simulated model: quality, latency, length, refusals, errors, formatting and citation habits."""

    name: str = Field(min_length=1, max_length=128, pattern=r"^[^\s:]+$")
    model_name: str | None = None
    """Model name reported in ``response_metadata["model_name"]`` (default: the profile name)."""
    description: str = ""
    quality: QualitySpec = Field(default_factory=QualitySpec)
    task_quality: dict[str, QualitySpec] = Field(default_factory=dict)
    """Per task kind overrides: ``choice``, ``selection``, ``extraction``, ``cited_answer``, ``verdict``,
    ``score``."""
    latency: LatencySpec = Field(default_factory=LatencySpec)
    output: OutputSpec = Field(default_factory=OutputSpec)
    refusal_rate: Rate = Field(default=0.0, ge=0, le=1)
    errors: ErrorSpec = Field(default_factory=ErrorSpec)
    format: FormatSpec = Field(default_factory=FormatSpec)
    citations: CitationSpec = Field(default_factory=CitationSpec)
    context_window: int = Field(default=128_000, ge=1)
    """Inputs longer than this (estimated tokens) raise ``ContextOverflowError``."""
    price: PriceSpec | None = None
    """Indicative USD per million tokens, for pricing simulated models (a YAML ``prices:`` entry wins)."""

    @property
    def reported_model(self) -> str:
        """The model name reported in responses."""
        return self.model_name or self.name

    def quality_for(self, kind: str) -> QualitySpec:
        """The quality curve for a task kind."""
        return self.task_quality.get(kind, self.quality)


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class ProfileRegistry:
    """Named profiles: the shipped catalog (loaded lazily) plus any registered at run time."""

    def __init__(self) -> None:
        self._profiles: dict[str, SimulatedProfile] = {}
        self._raw: dict[str, dict[str, Any]] = {}
        self._builtin_loaded = False
        self._lock = threading.RLock()

    def _ensure_builtin(self) -> None:
        if self._builtin_loaded:
            return
        with self._lock:
            if self._builtin_loaded:
                return
            text = resources.files("routing_agent.providers").joinpath("profiles.yaml").read_text("utf-8")
            data = yaml.safe_load(text) or {}
            self._add_many(data.get("profiles", {}), source="routing_agent/providers/profiles.yaml")
            # Only now: ``get`` reads without the lock once this flag is set.
            self._builtin_loaded = True

    def get(self, name: str) -> SimulatedProfile:
        """The profile called ``name``; ``ModelResolutionError`` names the known ones otherwise."""
        self._ensure_builtin()
        profile = self._profiles.get(name)
        if profile is None:
            known = ", ".join(sorted(self._profiles))
            raise ModelResolutionError(
                f"unknown simulated profile '{name}' (known: {known}). Declare it under "
                "'simulated_profiles:' in the YAML or register it with register_profiles()."
            )
        return profile

    def names(self) -> list[str]:
        """Every registered profile name."""
        self._ensure_builtin()
        return sorted(self._profiles)

    def register(self, profile: SimulatedProfile) -> None:
        """Add or replace one profile."""
        self._ensure_builtin()
        with self._lock:
            self._profiles[profile.name] = profile
            self._raw[profile.name] = profile.model_dump(mode="json", exclude={"name"})

    def register_many(self, specs: Mapping[str, Mapping[str, Any]], *, source: str = "<config>") -> None:
        """Validate and add profiles given as YAML mappings (``extends:`` resolves against any profile)."""
        self._ensure_builtin()
        self._add_many(specs, source=source)

    def check(self, specs: Mapping[str, Mapping[str, Any]], *, source: str = "<config>") -> list[ConfigIssue]:
        """The problems ``register_many(specs)`` would raise, without registering anything."""
        self._ensure_builtin()
        trial = ProfileRegistry()
        with self._lock:
            trial._profiles, trial._raw = dict(self._profiles), dict(self._raw)
        trial._builtin_loaded = True
        try:
            trial._add_many(specs, source=source)
        except ConfigError as exc:
            return list(exc.issues)
        return []

    def _add_many(self, specs: Mapping[str, Mapping[str, Any]], *, source: str) -> None:
        issues: list[ConfigIssue] = []
        with self._lock:
            pending = dict(specs)
            while pending:
                progressed = False
                for name, spec in list(pending.items()):
                    parent = spec.get("extends")
                    if parent is not None and parent not in self._raw:
                        continue
                    del pending[name]
                    progressed = True
                    body = {k: v for k, v in spec.items() if k != "extends"}
                    raw = _deep_merge(self._raw[parent], body) if parent is not None else body
                    if parent is not None and "model_name" not in body:
                        raw.pop("model_name", None)
                    try:
                        profile = SimulatedProfile.model_validate({**raw, "name": name})
                    except ValidationError as exc:
                        for err in exc.errors():
                            loc = ".".join(str(p) for p in err["loc"])
                            issues.append(
                                ConfigIssue(
                                    source, None, None, f"simulated_profiles.{name}.{loc}", err["msg"]
                                )
                            )
                        continue
                    self._profiles[name] = profile
                    self._raw[name] = raw
                if not progressed:
                    for name, spec in pending.items():
                        issues.append(
                            ConfigIssue(
                                source,
                                None,
                                None,
                                f"simulated_profiles.{name}.extends",
                                f"unknown profile '{spec.get('extends')}'",
                                fix=f"extend one of: {', '.join(sorted(self._raw))}",
                            )
                        )
                    break
        if issues:
            raise ConfigError(issues)


profiles = ProfileRegistry()
"""The process-wide profile registry the simulated provider resolves names against."""


def register_profiles(specs: Mapping[str, Mapping[str, Any]], *, source: str = "<config>") -> None:
    """Register the ``simulated_profiles:`` section of a config (``ExperimentsConfig.simulated_profiles``)."""
    profiles.register_many(specs, source=source)
