"""Targeting rules and progressive ramps as a user writes them in an experiment's YAML.

::

    targeting:
      - when: {tier: free}          # every condition must hold; a value or a list of accepted values
        enrol: false                # matching units are not enrolled: the agents' default models
      - when: {category: [easy]}
        variant: haiku              # matching units get this variant (not randomized: traced, never observed)
    ramp:
      steps: [5, 20, 50]            # % of units on the candidate(s); `watch` advances while guardrails hold

A condition's attribute is read from the graph state, then from the run context (``context=…`` or
``config["configurable"]``). The matching itself (``matches``) is shared by the routing node, ``routed_model``
and a segment-level ship, so all three read a rule the same way.
"""

from __future__ import annotations

__all__ = ["Conditions", "RampSpec", "TargetRule", "matches", "normalise_conditions"]

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field, field_validator, model_validator

from routing_agent.config.fields import Slug, StrictModel
from routing_agent.config.rules import SpecProblem

Conditions = dict[str, tuple[str, ...]]
"""Attribute → accepted values (a unit matches when its value is one of them)."""

_MISSING = object()


def normalise_conditions(raw: Mapping[str, Any]) -> Conditions:
    """``{"tier": "free", "category": ["easy", "billing"]}`` → attribute → tuple of accepted texts."""
    out: Conditions = {}
    for key, value in raw.items():
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        texts = tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in values)
        if not str(key).strip() or not texts:
            raise SpecProblem(
                f"condition '{key}' needs an attribute name and at least one value",
                fix="write when: {category: easy} or when: {category: [easy, billing]}",
                loc=(str(key),),
            )
        out[str(key)] = texts
    return out


def matches(conditions: Mapping[str, tuple[str, ...]], lookup: Callable[[str], Any]) -> bool | None:
    """True when every condition holds, False when one fails, None when an attribute is not known yet.

    ``lookup(attribute)`` returns the unit's value, or ``None`` when it has none (yet).
    """
    unknown = False
    for key, accepted in conditions.items():
        value = lookup(key)
        if value is None or value == "":
            unknown = True
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if text not in accepted:
            return False
    return None if unknown else True


class TargetRule(StrictModel):
    """``when`` conditions → a variant, or no enrolment (``enrol: false``). First matching rule wins."""

    when: dict[str, tuple[str, ...]]
    variant: Slug | None = None
    enrol: bool = True

    @field_validator("when", mode="before")
    @classmethod
    def _conditions(cls, value: Any) -> Any:
        if not isinstance(value, Mapping) or not value:
            raise SpecProblem(
                "'when' must map at least one attribute to a value",
                fix="write when: {tier: free} (all conditions must hold)",
            )
        return normalise_conditions(value)

    @model_validator(mode="after")
    def _one_effect(self) -> TargetRule:
        if (self.variant is None) == self.enrol:
            raise SpecProblem(
                "a targeting rule gives a variant or sets enrol: false (exactly one of them)",
                fix="write variant: <name> to force a variant, or enrol: false to leave the units out",
            )
        return self


class RampSpec(StrictModel):
    """Progressive exposure: the share of units on the candidate(s), step by step (percent)."""

    steps: tuple[float, ...] = Field(min_length=1)
    min_units_per_arm: int = Field(default=100, ge=1)
    """Every guardrail needs this many units per arm at the current step before ``watch`` advances."""

    @field_validator("steps")
    @classmethod
    def _increasing(cls, steps: tuple[float, ...]) -> tuple[float, ...]:
        if any(not (0 < s <= 100) for s in steps) or any(b <= a for a, b in itertools.pairwise(steps)):
            raise SpecProblem(
                f"ramp steps {list(steps)} must be increasing percentages in (0, 100]",
                fix="write steps: [5, 20, 50] (percent of units on the candidate)",
            )
        return steps

    def coverage(self, step: int, candidate_weight: float) -> float:
        """The enrolment coverage that puts ``steps[step]`` % of units on the candidate(s).

        Ramping coverage (not weights) keeps the arms' split as configured — the SRM check stays valid —
        and, as in GrowthBook, a unit enrolled at a lower coverage keeps its variant at a higher one.
        """
        index = min(max(step, 0), len(self.steps) - 1)
        return min(1.0, self.steps[index] / 100.0 / candidate_weight) if candidate_weight > 0 else 0.0


def targeting_problems(
    rules: tuple[TargetRule, ...], ramp: RampSpec | None, variants: dict[str, float], control: str
) -> list[SpecProblem]:
    """Cross-field rules: a rule names a declared variant; a ramp's last step fits the candidates' weight."""
    problems: list[SpecProblem] = []
    for i, rule in enumerate(rules):
        if rule.variant is not None and rule.variant not in variants:
            problems.append(
                SpecProblem(
                    f"targeting rule {i + 1} names variant '{rule.variant}', which is not declared",
                    fix=f"use one of: {', '.join(variants)}",
                    loc=("targeting", i, "variant"),
                )
            )
    if ramp is not None:
        share = 100.0 * sum(w for name, w in variants.items() if name != control)
        if ramp.steps[-1] > share + 1e-9:
            problems.append(
                SpecProblem(
                    f"ramp step {ramp.steps[-1]:g}% exceeds the candidates' weight ({share:g}%): a ramp "
                    "widens enrolment, it never changes the split",
                    fix=f"end the ramp at {share:g} or raise the candidates' weight",
                    loc=("ramp", "steps"),
                )
            )
    return problems
