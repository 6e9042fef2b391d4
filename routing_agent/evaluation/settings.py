"""``EvaluationSettings``: the evaluator's thresholds that are not part of an experiment's YAML."""

from __future__ import annotations

__all__ = ["ADDITIVE_METRICS", "EvaluationSettings"]

from dataclasses import asdict, dataclass
from typing import Any, Literal

from routing_agent.stores.observations.observation import Metric

ADDITIVE_METRICS: frozenset[str] = frozenset(
    {Metric.COST_USD.value, Metric.INPUT_TOKENS.value, Metric.OUTPUT_TOKENS.value, Metric.CALLS.value}
)
"""Metrics whose per-unit *total* is the quantity of interest: "cost per session", not cost per call.

Every other metric is read per observation (latency per call, refusal rate per call, a score per output),
its mean taken as ``Σ values / Σ observations`` with a delta-method variance over units (clustered by unit).
"""

Correction = Literal["holm", "bh", "bonferroni", "none"]
GuardrailFamily = Literal["bonferroni", "per_bound"]


@dataclass(frozen=True, kw_only=True)
class EvaluationSettings:
    """Thresholds of the validity checks, guardrails and multiplicity corrections.

    Args:
        guardrail_alpha: family-wise level of the guardrails' always-valid breach tests.
        guardrail_family: ``bonferroni`` (default) tests each bound × test arm at ``guardrail_alpha / m``
            (``m`` bounds × arms), so the chance of any false rollback over every look is at most
            ``guardrail_alpha``; ``per_bound`` tests each at ``guardrail_alpha`` (false stops add up).
        srm_threshold: SRM chi-square p-value below which (with ``srm_min_relative_deviation``) the split is
            declared broken.
        srm_min_relative_deviation: the smallest relative deviation of a variant's share that can be an SRM.
        max_invalid_judge_rate: share of invalid judge verdicts (``<scorer>.invalid``) above which, in any
            arm, the evaluation is invalid.
        max_unpriced_rate: share of unpriced calls above which, in any arm, the evaluation is invalid.
        min_observations_for_rates: the two rates above are checked once an arm has this many observations.
        attrition_threshold: p-value (two-proportion test of the share of assigned units without a primary
            outcome, each arm against control) below which, with ``attrition_min_difference``, the
            evaluation is invalid: differential missingness biases every reading.
        attrition_min_difference: the smallest difference of missing shares that can be an attrition alarm.
        min_coverage: an arm whose share of assigned units with a primary outcome is below this (once it has
            ``min_units_for_coverage`` units) fails the coverage check: outcomes are not arriving.
        min_coverage_ratio: an arm whose coverage is below this × the best arm's fails it too (outcomes
            stopped arriving for one arm).
        min_units_for_coverage: assigned units an arm needs before its coverage is checked.
        correction: multiplicity correction of the primary metric across test arms.
        secondary_correction: correction across secondary metrics × arms (false discovery rate by default).
        early_stopping: decide before the planned sample when the always-valid test on the primary is
            already conclusive (a win that clears the MDE, or a significant loss).
        cost_metric: the metric whose per-unit total picks the cheaper variant.
        latency_metric: the metric whose distribution per variant the report plots.
        timeline_points: looks replayed for the report's over-time plots (stores with raw rows).
    """

    guardrail_alpha: float = 0.05
    guardrail_family: GuardrailFamily = "bonferroni"
    srm_threshold: float = 0.001
    srm_min_relative_deviation: float = 0.01
    max_invalid_judge_rate: float = 0.10
    max_unpriced_rate: float = 0.05
    min_observations_for_rates: int = 50
    attrition_threshold: float = 0.001
    attrition_min_difference: float = 0.002
    min_coverage: float = 0.2
    min_coverage_ratio: float = 0.5
    min_units_for_coverage: int = 30
    correction: Correction = "holm"
    secondary_correction: Correction = "bh"
    early_stopping: bool = True
    cost_metric: str = Metric.COST_USD.value
    latency_metric: str = Metric.LATENCY_S.value
    timeline_points: int = 24

    def __post_init__(self) -> None:
        names = ("guardrail_alpha", "srm_threshold", "max_invalid_judge_rate", "max_unpriced_rate")
        for name in (*names, "attrition_threshold"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], not {value!r}")
        if self.timeline_points < 2:
            raise ValueError("timeline_points must be at least 2")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)
