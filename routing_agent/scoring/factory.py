"""YAML ``scorers:`` entries → scorer objects, with every option checked by the scorer type's own model.

``build_scorer(spec)`` validates ``spec.options`` against the options model of ``spec.type`` and raises a
``ConfigError`` whose issues name the experiment and the field (``scorers[2].options.threshold``) with a fix.
``build_scorers(experiment)`` builds every scorer of an experiment and reports all problems at once.
"""

from __future__ import annotations

__all__ = ["OPTIONS", "AnyScorer", "build_scorer", "build_scorers", "scorer_problems", "select"]

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from routing_agent.config.spec import ExperimentSpec, ScorerSpec
from routing_agent.errors import ConfigError, ConfigIssue
from routing_agent.providers.catalog import ModelCatalog
from routing_agent.scoring.base import Scorer
from routing_agent.scoring.citations import (
    CitationCorrectnessScorer,
    CitationOptions,
    CitationStabilityScorer,
)
from routing_agent.scoring.exact import ExactOptions, ExactScorer
from routing_agent.scoring.fuzzy import FuzzyOptions, FuzzyScorer
from routing_agent.scoring.json_fields import JsonFieldsOptions, JsonFieldsScorer
from routing_agent.scoring.json_schema import JsonSchemaOptions, JsonSchemaScorer, load_schema
from routing_agent.scoring.judge import LikertJudge, LikertOptions, PairwiseJudge, PairwiseOptions

AnyScorer = Scorer[Any]
"""A scorer of samples or pairs (``scorer.pairwise`` tells which)."""

OPTIONS: dict[str, type[BaseModel]] = {
    "exact": ExactOptions,
    "fuzzy": FuzzyOptions,
    "json_fields": JsonFieldsOptions,
    "json_schema": JsonSchemaOptions,
    "judge_likert": LikertOptions,
    "judge_pairwise": PairwiseOptions,
    "citations": CitationOptions,
}
"""The options model of each scorer ``type``."""

_NEEDS_REFERENCE = {"exact", "fuzzy", "json_fields"}


def _issue(
    experiment: str | None, field: str, message: str, fix: str | None, source: str | None
) -> ConfigIssue:
    return ConfigIssue(
        file=source or "<config>", line=None, experiment=experiment, field=field, message=message, fix=fix
    )


def _options_issues(
    exc: ValidationError, prefix: str, experiment: str | None, source: str | None, kind: str
) -> list[ConfigIssue]:
    issues = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"] if p != "__root__")
        loc = "schema" if loc == "json_schema" else loc
        field = f"{prefix}.options" + (f".{loc}" if loc else "")
        fix = None
        if error["type"] == "extra_forbidden":
            known = ", ".join(sorted(OPTIONS[kind].model_fields))
            fix = f"remove it or use one of the options of type '{kind}': {known}"
        elif error["type"] == "missing":
            fix = f"add '{loc}' under options"
        issues.append(_issue(experiment, field, error["msg"], fix, source))
    return issues


def scorer_problems(
    spec: ScorerSpec,
    *,
    index: int = 0,
    experiment: str | None = None,
    source: str | None = None,
    base_dir: Path | None = None,
) -> tuple[BaseModel | None, list[ConfigIssue]]:
    """The validated options of one scorer entry, and every problem found in it."""
    prefix = f"scorers[{index}]"
    issues: list[ConfigIssue] = []
    try:
        options: BaseModel | None = OPTIONS[spec.type].model_validate(spec.options)
    except ValidationError as exc:
        return None, _options_issues(exc, prefix, experiment, source, spec.type)
    needs_reference = spec.type in _NEEDS_REFERENCE or (
        isinstance(options, CitationOptions) and options.against == "gold"
    )
    if needs_reference and spec.reference_field is None:
        issues.append(
            _issue(
                experiment,
                f"{prefix}.reference_field",
                f"scorer '{spec.name}' of type '{spec.type}' compares with a reference but names none",
                "add reference_field: <the state or record key holding the expected output>",
                source,
            )
        )
    if isinstance(options, JsonSchemaOptions):
        try:
            load_schema(options, base_dir)
        except ValueError as exc:
            field = "schema_file" if options.schema_file is not None else "schema"
            issues.append(
                _issue(experiment, f"{prefix}.options.{field}", str(exc), "fix or replace the schema", source)
            )
    return options, issues


def build_scorer(
    spec: ScorerSpec,
    *,
    index: int = 0,
    experiment: str | None = None,
    source: str | None = None,
    base_dir: Path | None = None,
    models: ModelCatalog | None = None,
) -> AnyScorer:
    """The scorer a YAML entry describes; ``ConfigError`` (naming ``scorers[index].…``) when it is wrong."""
    options, issues = scorer_problems(
        spec, index=index, experiment=experiment, source=source, base_dir=base_dir
    )
    if issues:
        raise ConfigError(issues)
    name = spec.name
    if isinstance(options, ExactOptions):
        return ExactScorer(name, options)
    if isinstance(options, FuzzyOptions):
        return FuzzyScorer(name, options)
    if isinstance(options, JsonFieldsOptions):
        return JsonFieldsScorer(name, options)
    if isinstance(options, JsonSchemaOptions):
        return JsonSchemaScorer(name, options, schema=load_schema(options, base_dir))
    if isinstance(options, LikertOptions):
        return LikertJudge(name, options, models=models)
    if isinstance(options, PairwiseOptions):
        return PairwiseJudge(name, options, models=models)
    assert isinstance(options, CitationOptions)
    against = options.against or ("gold" if spec.reference_field is not None else "control")
    options = options.model_copy(update={"against": against})
    if against == "gold":
        return CitationCorrectnessScorer(name, options)
    return CitationStabilityScorer(name, options)


def build_scorers(
    experiment: ExperimentSpec,
    *,
    source: str | None = None,
    base_dir: Path | None = None,
    models: ModelCatalog | None = None,
) -> list[tuple[ScorerSpec, AnyScorer]]:
    """Every scorer of ``experiment`` with its spec; one ``ConfigError`` listing all problems."""
    issues: list[ConfigIssue] = []
    for i, spec in enumerate(experiment.scorers):
        issues.extend(
            scorer_problems(spec, index=i, experiment=experiment.id, source=source, base_dir=base_dir)[1]
        )
    if issues:
        raise ConfigError(issues)
    return [
        (
            spec,
            build_scorer(
                spec, index=i, experiment=experiment.id, source=source, base_dir=base_dir, models=models
            ),
        )
        for i, spec in enumerate(experiment.scorers)
    ]


def select(
    scorers: Sequence[tuple[ScorerSpec, AnyScorer]], *, agent: str | None = None, mode: str | None = None
) -> list[tuple[ScorerSpec, AnyScorer]]:
    """The scorers for ``agent`` (entries without an agent apply to every agent) and ``mode``."""
    return [
        (spec, scorer)
        for spec, scorer in scorers
        if (agent is None or spec.agent in (None, agent)) and (mode is None or spec.mode == mode)
    ]
