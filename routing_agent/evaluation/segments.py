"""Step 4 of the reading order: does the primary result hold on every declared segment?

For each key in the YAML's ``segments`` (e.g. ``tier``) and each test arm, the primary metric is compared with
control on every value of the key that both arms have units in, with the overall analysis's shape and a
two-sided test, and the p-values are Holm-adjusted within the key (``routing_agent.stats.analyze_segments``).
A value where the candidate is significantly worse after the adjustment turns a win (or a no-difference that
would move traffic to the candidate) into a *segmentation decision*: "switch to Haiku for the easy tickets,
keep Sonnet for the complex ones" is a choice a person makes, not an automatic ship.
"""

from __future__ import annotations

__all__ = ["SegmentReport", "analyze_primary_segments"]

from dataclasses import dataclass
from typing import Any

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.metrics import MetricData, load_metric
from routing_agent.stats import (
    EffectResult,
    RatioSummary,
    SampleSummary,
    SegmentAnalysis,
    analyze_segments,
    compare_means,
    compare_proportions,
    compare_ratios,
)
from routing_agent.stores.observations.base import ObservationStore

Pair = tuple[SampleSummary | RatioSummary, SampleSummary | RatioSummary]


@dataclass(frozen=True)
class SegmentReport:
    """One segment key for one test arm: every value's comparison and the values where it loses."""

    key: str
    variant: str
    analysis: SegmentAnalysis

    @property
    def worse(self) -> list[str]:
        """Values where the candidate is significantly worse (after the within-key adjustment)."""
        return [s.value for s in self.analysis.worse]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        values = []
        for s in self.analysis.segments:
            r = s.result.to_json()
            values.append(
                {
                    "value": s.value,
                    "control_value": r["control_mean"],
                    "test_value": r["treatment_mean"],
                    "effect": r["absolute_effect"],
                    "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"],
                    "p_value": r["p_value"],
                    "adjusted_p_value": s.adjusted_p_value,
                    "significant": s.significant,
                    "worse": s.worse,
                    "n_control": r["control_n"],
                    "n_test": r["treatment_n"],
                    "method": r["method"],
                }
            )
        hetero = self.analysis.heterogeneity_p_value
        return {"key": self.key, "variant": self.variant, "heterogeneity_p_value": hetero, "values": values}


def _analyze(proportion: bool, alpha: float) -> Any:
    def run(c: SampleSummary | RatioSummary, t: SampleSummary | RatioSummary) -> EffectResult:
        if isinstance(c, RatioSummary) and isinstance(t, RatioSummary):
            return compare_ratios(c, t, alpha=alpha)
        assert isinstance(c, SampleSummary) and isinstance(t, SampleSummary)
        if proportion:
            return compare_proportions(c, t, alpha=alpha)
        return compare_means(c, t, alpha=alpha)

    return run


def analyze_primary_segments(
    spec: ExperimentSpec,
    store: ObservationStore,
    overall: MetricData,
    *,
    control: str,
    arms: list[str],
) -> list[SegmentReport]:
    """Every declared segment key × test arm for the primary metric (empty without segments)."""
    m = spec.primary_metric
    if m is None or not spec.segments:
        return []
    seen = store.segments(spec.id)
    reports: list[SegmentReport] = []
    for key in spec.segments:
        per_value: dict[str, MetricData] = {
            value: load_metric(
                store, spec.id, m.name, agent=m.agent, denominator=m.denominator, segment=(key, value),
                binary=m.kind == "binary", shape=overall.shape,
            )
            for value in sorted(seen.get(key, set()))
        }  # fmt: skip
        for arm in arms:
            groups: dict[str, Pair] = {
                value: (data.summary(control), data.summary(arm))
                for value, data in per_value.items()
                if data.has(control) and data.has(arm)
            }
            if not groups:
                continue
            analysis = analyze_segments(
                key, groups, _analyze(overall.proportion, m.alpha), direction=m.direction, alpha=m.alpha
            )
            reports.append(SegmentReport(key, arm, analysis))
    return reports
