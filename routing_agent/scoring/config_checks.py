"""Scorer options checked at load time, so a typo under ``scorers[].options`` gets its file and line.

Importing ``routing_agent.scoring`` registers ``scorer_option_problems`` with the config loader
(``routing_agent.config.checks``), which runs it while the YAML line map is still at hand and locates every
problem it finds. The options of each scorer ``type`` are defined in ``routing_agent.scoring.factory``,
imported only when an experiment declares scorers.
"""

from __future__ import annotations

__all__ = ["scorer_option_problems"]

from pathlib import Path as FsPath

from pydantic import ValidationError

from routing_agent.config.checks import register_experiment_check
from routing_agent.config.messages import explain, parse_path
from routing_agent.config.spec import ExperimentSpec
from routing_agent.config.yaml_source import Path


def scorer_option_problems(spec: ExperimentSpec, source: str) -> list[tuple[Path, str, str | None]]:
    """(path inside the experiment, message, fix) for each problem in the experiment's scorer entries."""
    if not spec.scorers:
        return []
    from routing_agent.scoring.factory import OPTIONS, scorer_problems

    base_dir = FsPath(source).parent if FsPath(source).is_file() else None
    problems: list[tuple[Path, str, str | None]] = []
    for i, scorer in enumerate(spec.scorers):
        model = OPTIONS.get(scorer.type)
        if model is None:
            continue
        try:
            model.model_validate(scorer.options)
        except ValidationError as exc:
            for p in explain(exc, model, scorer.options):
                problems.append((("scorers", i, "options", *p.path), p.message, p.fix))
            continue
        try:
            _, issues = scorer_problems(scorer, index=i, experiment=spec.id, source=source, base_dir=base_dir)
        except Exception as exc:  # a checker bug must still surface as a located ConfigError
            message = f"the options could not be checked ({type(exc).__name__}: {exc})"
            fix = f"check the options against the reference of scorer type '{scorer.type}'"
            problems.append((("scorers", i, "options"), message, fix))
            continue
        for issue in issues:
            path = parse_path(issue.field) if issue.field else ("scorers", i)
            problems.append((path, issue.message, issue.fix))
    return problems


register_experiment_check("scorer_options", scorer_option_problems)
