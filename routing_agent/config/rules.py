"""Rules the spec validators apply, and the error they raise to point at a field with a fix.

Kept apart from ``spec.py`` so the models stay readable; every function here is pure.
"""

from __future__ import annotations

__all__ = ["Loc", "SpecProblem", "as_fraction", "duplicate_names", "rescaled", "variant_problems"]

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routing_agent.config.spec import ExperimentSpec, VariantSpec

Loc = tuple[str | int, ...]


class SpecProblem(ValueError):
    """A rule violation found by a validator, with the field it concerns and how to fix it.

    ``loc`` is relative to the value being validated (e.g. ``(1, "weight")`` inside ``variants``);
    ``also`` carries further problems found in the same pass, so a user sees all of them at once.
    The loader turns these into ``ConfigIssue``s with file and line.
    """

    def __init__(
        self, message: str, *, fix: str | None = None, loc: Loc = (), also: Sequence[SpecProblem] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.loc = loc
        self.also = tuple(also)

    @classmethod
    def raise_all(cls, problems: Sequence[SpecProblem]) -> None:
        """Raise the first problem carrying the others, if there are any."""
        if problems:
            first = problems[0]
            raise cls(first.message, fix=first.fix, loc=first.loc, also=problems[1:])


def as_fraction(value: float) -> str:
    """A rate written as a percentage (87) suggested as a fraction (0.87); a generic example otherwise."""
    return f"{value / 100:g}" if 1 < value < 100 else "0.87"


def rescaled(weights: Sequence[float | None]) -> str:
    """Weights rescaled to whole percentages summing to 100, as a fix suggestion ("89/11 (sum 100)")."""
    top = max((w or 0.0) for w in weights)
    scaled = (
        [(w or 0.0) / top for w in weights] if top > 0 else [0.0] * len(weights)
    )  # 1e308s do not overflow
    total = math.fsum(scaled)
    share = [100 // len(weights)] * len(weights) if total <= 0 else [round(100 * w / total) for w in scaled]
    share[-1] += 100 - sum(share)
    return "/".join(str(s) for s in share) + " (sum 100)"


def variant_problems(variants: Sequence[VariantSpec]) -> list[SpecProblem]:
    """Repeated variant names and anything but exactly one control."""
    problems: list[SpecProblem] = []
    first: dict[str, int] = {}
    for i, v in enumerate(variants):
        if v.name in first:
            problems.append(
                SpecProblem(
                    f"variant name '{v.name}' is already used by variants[{first[v.name]}]",
                    fix="give every variant its own name, e.g. control and candidate",
                    loc=(i, "name"),
                )
            )
        first.setdefault(v.name, i)
    controls = [i for i, v in enumerate(variants) if v.control]
    if not controls:
        problems.append(
            SpecProblem(
                "no variant has 'control: true', so the test has nothing to compare against",
                fix="add control: true to the variant that runs today's model",
            )
        )
    problems.extend(
        SpecProblem(
            f"variants[{controls[0]}] '{variants[controls[0]].name}' is already the control; "
            "an experiment has exactly one",
            fix="keep control: true on one variant only (the one running today's model)",
            loc=(i, "control"),
        )
        for i in controls[1:]
    )
    return problems


def duplicate_names(spec: ExperimentSpec) -> list[SpecProblem]:
    """Metrics, guardrails and scorers that would produce or judge the same numbers twice."""
    problems: list[SpecProblem] = []
    metric_names = {spec.primary_metric.name} if spec.primary_metric is not None else set()
    for i, metric in enumerate(spec.secondary_metrics):
        if metric.name in metric_names:
            problems.append(
                SpecProblem(
                    f"metric '{metric.name}' is already analysed by this experiment",
                    fix="list each metric once (primary or secondary)",
                    loc=("secondary_metrics", i, "name"),
                )
            )
        metric_names.add(metric.name)
    guards: set[tuple[str, str, str | None]] = set()
    for i, guard in enumerate(spec.guardrails):
        key = (guard.metric, guard.statistic, guard.agent)
        if key in guards:
            problems.append(
                SpecProblem(
                    f"a guardrail on {guard.statistic} '{guard.metric}' is already declared",
                    fix="merge the two guardrails into one entry",
                    loc=("guardrails", i),
                )
            )
        guards.add(key)
    scorers: set[str] = set()
    for i, scorer in enumerate(spec.scorers):
        if scorer.name in scorers:
            problems.append(
                SpecProblem(
                    f"scorer name '{scorer.name}' is already used; its observations would be mixed",
                    fix="give each scorer its own name (the metric name it records)",
                    loc=("scorers", i, "name"),
                )
            )
        scorers.add(scorer.name)
    return problems
