"""What the pages show: each experiment's live snapshot and its latest evaluation, cached per process.

``Board`` holds one assignment store and one observation store for the process. Evaluations are cached for
``refresh_s`` and chained (``history=``) so the always-valid tests and the p-value timeline continue from
look to look. A failing store or evaluation never breaks a page: the view carries the error text instead,
and ``errors`` counts them.
"""

from __future__ import annotations

__all__ = ["MAX_SEGMENT_VALUES", "PERCENTILE_METRICS", "Board", "ExperimentView"]

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec
from routing_agent.control.status import ExperimentSnapshot, experiment_status
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.observations.base import ObservationStore
from routing_agent.stores.reviews import ReviewStore, review_store_for

if TYPE_CHECKING:
    from routing_agent.evaluation.analysis import Evaluation


@dataclass(frozen=True)
class ExperimentView:
    """One experiment for the pages: the snapshot (state, counts, audit trail, reviews) and the evaluation."""

    spec: ExperimentSpec
    snapshot: ExperimentSnapshot | None
    report: dict[str, Any] | None  # Evaluation.to_json(), None when it could not be computed
    error: str | None = None  # why the snapshot or the evaluation is missing
    percentiles: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    """metric (latency_s, ttft_s) → variant → count, p50, p90, p95, p99 of the per-call values."""
    segment_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Segment attribute → the values observed in the data (what "ship to a segment" offers)."""

    def suggested_segment(self) -> tuple[str, dict[str, list[str]]] | None:
        """The evaluator's segment reading: ``(winner, segment)`` of a segmentation decision, else None."""
        decision = (self.report or {}).get("decision") or {}
        segment = (decision.get("evidence") or {}).get("ship_segment")
        if decision.get("kind") != "segmentation" or not decision.get("winner") or not segment:
            return None
        return str(decision["winner"]), {str(k): [str(v) for v in vs] for k, vs in segment.items()}

    def segment_offer(self) -> dict[str, set[str]]:
        """Every ``attribute → values`` a person may ship to: observed values and the evaluator's reading."""
        offer = {k: set(vs) for k, vs in self.segment_values.items()}
        suggested = self.suggested_segment()
        for key, values in (suggested[1] if suggested else {}).items():
            offer.setdefault(key, set()).update(values)
        return offer

    def planned(self) -> dict[str, int]:
        """Planned units per arm (the sample-size plan), empty without a plan."""
        plan = (self.report or {}).get("plan") or {}
        return {str(k): int(v) for k, v in (plan.get("planned") or {}).items()}

    def guardrail_status(self) -> list[tuple[str, str]]:
        """``(bound [arm], status)`` of every guardrail bound: breached | held | insufficient_data."""
        out = []
        for g in (self.report or {}).get("guardrails", []):
            out.append((f"{g['bound']} [{g['variant']}]", str(g.get("status") or _status(g))))
        return out

    def alarms(self) -> list[str]:
        """Failed validity checks (SRM, attrition, unpriced calls, judge, ingestion …), one sentence each."""
        checks = (self.report or {}).get("checks", [])
        return [f"{c['name']}: {c['message']}" for c in checks if not c.get("passed", True)]


def _status(g: dict[str, Any]) -> str:
    if g.get("test_value") is None or (g.get("kind") == "relative" and g.get("control_value") is None):
        return "insufficient_data"
    if not g.get("enough_sample") or (g.get("beyond_bound") and not g.get("reliable", True)):
        return "insufficient_data"
    return "breached" if g.get("breached") else "held"


PERCENTILE_METRICS = ("latency_s", "ttft_s")
_QUANTILES = (0.5, 0.9, 0.95, 0.99)
MAX_SEGMENT_VALUES = 50
"""Values offered per segment attribute (a high-cardinality attribute is not a segment to ship to)."""
_SEGMENTS_EVERY = 5  # the observed segments are re-read every 5 refresh periods


class Board:
    """The stores and experiments one dashboard process reads (thread-safe).

    Args:
        config: the experiments to show.
        store: the shared assignment store (live state, counts, audit trail; the review queue beside it).
        observations: the observation store the evaluator reads.
        refresh_s: how long an evaluation is reused before the next one.
    """

    def __init__(
        self,
        config: ExperimentsConfig,
        store: AssignmentStore,
        observations: ObservationStore,
        *,
        refresh_s: float = 2.0,
    ) -> None:
        self.config = config
        self.store = store
        self.observations = observations
        self.reviews: ReviewStore = review_store_for(store)
        self.refresh_s = refresh_s
        self.errors = 0
        self._lock = threading.Lock()
        self._last: dict[str, tuple[float, Evaluation]] = {}
        self._segments: dict[str, tuple[float, dict[str, tuple[str, ...]]]] = {}

    def spec(self, experiment: str) -> ExperimentSpec | None:
        """The experiment's spec, or None when the config has no such id."""
        return next((s for s in self.config.experiments if s.id == experiment), None)

    def view(self, spec: ExperimentSpec) -> ExperimentView:
        """The experiment as the stores see it now (errors become text, never exceptions)."""
        try:
            snapshot = experiment_status(self.store, spec, reviews=self.reviews)
        except Exception as exc:  # a store down: show it, keep serving
            self.count_error()
            return ExperimentView(spec, None, None, f"cannot read the store: {exc}")
        try:
            report = self._evaluation(spec).to_json()
        except Exception as exc:
            self.count_error()
            return ExperimentView(spec, snapshot, None, f"cannot evaluate yet: {exc}")
        return ExperimentView(
            spec,
            snapshot,
            report,
            percentiles=self._percentiles(spec),
            segment_values=self.segment_values(spec),
        )

    def views(self) -> list[ExperimentView]:
        """Every configured experiment's view, in config order."""
        return [self.view(s) for s in self.config.experiments]

    def _percentiles(self, spec: ExperimentSpec) -> dict[str, dict[str, dict[str, float]]]:
        out: dict[str, dict[str, dict[str, float]]] = {}
        for metric in PERCENTILE_METRICS:
            try:
                histograms = self.observations.histogram(spec.id, metric)
            except Exception:  # a store without histograms or down: the section says so
                self.count_error()
                continue
            rows = {
                variant: {
                    "count": float(h.count),
                    **{f"p{round(100 * q)}": h.quantile(q) for q in _QUANTILES},
                }
                for variant, h in sorted(histograms.items())
                if h.count
            }
            if rows:
                out[metric] = rows
        return out

    def segment_values(self, spec: ExperimentSpec) -> dict[str, tuple[str, ...]]:
        """Segment attributes and values observed for ``spec`` (sorted; cached; empty when unreadable)."""
        now = time.monotonic()
        with self._lock:
            cached = self._segments.get(spec.id)
        if cached is not None and now - cached[0] < _SEGMENTS_EVERY * self.refresh_s:
            return cached[1]
        try:
            observed = self.observations.segments(spec.id)
        except Exception:  # a store down: nothing to offer until it answers
            self.count_error()
            return cached[1] if cached is not None else {}
        values = {
            key: tuple(sorted(vs)) for key, vs in sorted(observed.items()) if len(vs) <= MAX_SEGMENT_VALUES
        }
        with self._lock:
            self._segments[spec.id] = (now, values)
        return values

    def count_error(self) -> None:
        """Count one failure (a store or evaluation error), shown by /healthz."""
        with self._lock:
            self.errors += 1

    def _evaluation(self, spec: ExperimentSpec) -> Evaluation:
        from routing_agent.evaluation.evaluator import evaluate

        now = time.monotonic()
        with self._lock:
            cached = self._last.get(spec.id)
        if cached is not None and now - cached[0] < self.refresh_s:
            return cached[1]
        result = evaluate(
            spec,
            observations=self.observations,
            assignments=self.store,
            history=cached[1] if cached is not None else None,
            timeline=True,
        )
        with self._lock:
            self._last[spec.id] = (now, result)
        return result

    def close(self) -> None:
        """Close both stores."""
        self.observations.close()
        self.store.close()
