"""``Evaluation``: the decision and every analysis behind it (what reports render and the schema pins)."""

from __future__ import annotations

__all__ = ["SCHEMA_VERSION", "ArmInfo", "Distribution", "Evaluation", "Look"]

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.checks import ValidityCheck
from routing_agent.evaluation.cost import CostComparison
from routing_agent.evaluation.decision import Decision, jsonable
from routing_agent.evaluation.guardrails import GuardrailCheck
from routing_agent.evaluation.plan import SamplePlan
from routing_agent.evaluation.primary import MetricComparison
from routing_agent.evaluation.segments import SegmentReport
from routing_agent.evaluation.settings import EvaluationSettings
from routing_agent.stats import SequentialResult
from routing_agent.stores.assignments.state import ExperimentState
from routing_agent.stores.observations.aggregates import LogHistogram

SCHEMA_VERSION = 1
_MAX_BINS = 48


@dataclass(frozen=True)
class ArmInfo:
    """One variant: its model, configured weight, units assigned (assignment store) and observed."""

    name: str
    model: str
    weight: float
    control: bool
    units_assigned: int | None
    units_observed: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Look:
    """One evaluation's headline numbers, for the over-time plots: units per arm and the always-valid p."""

    at: float
    units: dict[str, int]
    p_value: float | None = None  # the primary's always-valid p-value (first test arm)
    effect: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    guardrail_p_values: dict[str, float] = field(default_factory=dict)  # bound [arm] → always-valid p

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out: dict[str, Any] = jsonable(dict(self.__dict__))
        return out


@dataclass(frozen=True)
class Distribution:
    """One metric's per-observation distribution in one variant (the latency plot)."""

    metric: str
    variant: str
    histogram: LogHistogram

    def bins(self) -> list[list[float]]:
        """``[low, high, count]`` log-spaced bins (adjacent buckets merged to at most 48 bins)."""
        h = self.histogram
        gamma = 1.01 / 0.99
        edges = sorted(h.buckets)
        if not edges:
            return [[0.0, 0.0, float(h.zero)]] if h.zero else []
        step = max(1, math.ceil((edges[-1] - edges[0] + 1) / _MAX_BINS))
        merged: dict[int, int] = {}
        for index, count in h.buckets.items():
            merged[edges[0] + (index - edges[0]) // step * step] = (
                merged.get(edges[0] + (index - edges[0]) // step * step, 0) + count
            )
        out = [[0.0, 0.0, float(h.zero)]] if h.zero else []
        for start in sorted(merged):
            out.append([gamma ** (start - 1), gamma ** (start + step - 1), float(merged[start])])
        return out

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        h = self.histogram
        quantiles = {f"p{round(100 * q)}": h.quantile(q) for q in (0.5, 0.9, 0.95, 0.99)}
        out: dict[str, Any] = jsonable(
            {
                "metric": self.metric, "variant": self.variant, "count": h.count, "mean": h.mean,
                "min": h.min if h.count else None, "max": h.max if h.count else None, **quantiles,
                "bins": self.bins(),
            }
        )  # fmt: skip
        return out


@dataclass(frozen=True)
class Evaluation:
    """The decision and every analysis record behind it (``to_json`` follows ``report/schema.json``)."""

    spec: ExperimentSpec
    decision: Decision
    arms: tuple[ArmInfo, ...]
    checks: tuple[ValidityCheck, ...]
    guardrails: tuple[GuardrailCheck, ...]
    primary: tuple[MetricComparison, ...]
    secondary: tuple[MetricComparison, ...]
    plan: SamplePlan | None
    cost: CostComparison | None
    segments: tuple[SegmentReport, ...]
    distributions: tuple[Distribution, ...]
    looks: tuple[Look, ...]
    settings: EvaluationSettings
    evaluated_at: float
    duration_s: float
    state: ExperimentState | None = None
    stores: dict[str, str] = field(default_factory=dict)
    timeline_source: str = "looks"  # looks (this process's evaluations) | replay (raw rows)
    timeline: tuple[Look, ...] = ()

    @property
    def sequential_state(self) -> dict[str, SequentialResult]:
        """Every always-valid test of this look by key: the ``previous`` of the next look."""
        out: dict[str, SequentialResult] = {}
        for g in self.guardrails:
            if g.test is not None:
                out[g.key] = g.test
            if g.ratio_test is not None:
                out[g.key + ":ratio"] = g.ratio_test
        for c in (*self.primary, *self.secondary):
            if c.sequential is not None:
                out[f"{c.role}:{c.metric}:{c.variant}"] = c.sequential
        return out

    @property
    def weights(self) -> dict[str, float]:
        """Configured share of each variant."""
        return {v.name: v.weight or 0.0 for v in self.spec.variants}

    def to_json(self) -> dict[str, Any]:
        """The whole evaluation as JSON (valid against ``routing_agent/evaluation/report/schema.json``)."""
        spec = self.spec
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "experiment": {
                "id": spec.id, "description": spec.description, "unit": spec.unit.value,
                "review": spec.review, "segments": list(spec.segments),
                "primary_metric": spec.primary_metric.model_dump(mode="json")
                if spec.primary_metric else None,
                "state": self.state.to_json() if self.state is not None else None,
            },
            "decision": self.decision.to_json(),
            "evaluated_at": self.evaluated_at,
            "evaluated_at_iso": datetime.fromtimestamp(self.evaluated_at, UTC).isoformat(),
            "duration_s": self.duration_s,
            "arms": [a.to_json() for a in self.arms],
            "checks": [c.to_json() for c in self.checks],
            "plan": self.plan.to_json(self.weights) if self.plan is not None else None,
            "primary": [c.to_json() for c in self.primary],
            "secondary": [c.to_json() for c in self.secondary],
            "guardrails": [g.result.to_json() for g in self.guardrails],
            "cost": self.cost.to_json() if self.cost is not None else None,
            "segments": [s.to_json() for s in self.segments],
            "distributions": [d.to_json() for d in self.distributions],
            "timeline": {
                "source": self.timeline_source,
                "points": [look.to_json() for look in (self.timeline or self.looks)],
            },
            "settings": self.settings.to_json(),
            "stores": dict(self.stores),
        }  # fmt: skip
        result: dict[str, Any] = jsonable(out)
        return result
