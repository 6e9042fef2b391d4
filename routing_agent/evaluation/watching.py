"""The evaluator as ``watch`` uses it: ``evaluate(spec) -> Decision`` over shared stores, chaining the looks.

``control.Watcher`` takes any ``evaluate(spec) -> Decision``. ``WatchEvaluator`` is the built-in one: every
call runs ``evaluate`` with the previous evaluation of the same experiment as ``history``, so the always-valid
tests keep their running minimum p-value and intersected confidence sequences from tick to tick, and the
last ``Evaluation`` (with every look so far) stays available for a report::

    evaluator = WatchEvaluator("redis://redis:6379/0", store)
    Watcher(spec, store, evaluator, WatchSettings(every_s=30)).run()
    write_report(evaluator.last[spec.id], "report.html")

It also has the ``routing-agent watch --evaluator`` signature, ``f(spec, observations, assignments=...)``:
stores passed in a call win over the ones given to the constructor. ``AsyncWatchEvaluator`` is the twin for
``AsyncWatcher``; ``evaluate_decision(spec, observations)`` is the stateless form.
"""

from __future__ import annotations

__all__ = ["AsyncWatchEvaluator", "WatchEvaluator", "evaluate_decision"]

import asyncio
import threading
from collections.abc import Callable

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.analysis import Evaluation
from routing_agent.evaluation.decision import Decision
from routing_agent.evaluation.evaluator import StoreArg, evaluate
from routing_agent.evaluation.settings import EvaluationSettings
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.observations.base import ObservationStore
from routing_agent.stores.observations.open import open_observation_store


def evaluate_decision(
    spec: ExperimentSpec, observations: StoreArg, assignments: AssignmentStore | None = None
) -> Decision:
    """One evaluation's decision (no history: each call is a first look)."""
    return evaluate(spec, observations=observations, assignments=assignments).decision


def _ramp_step(spec: ExperimentSpec, store: AssignmentStore | None) -> int:
    if spec.ramp is None or store is None:
        return 0
    from routing_agent.assignment.assigner import ramp_step

    try:
        return ramp_step(store.get_state(spec.id))
    except Exception:  # the evaluation itself reports a failing store
        return 0


class WatchEvaluator:
    """``evaluate(spec) -> Decision`` for ``Watcher``, keeping each experiment's last ``Evaluation``.

    Args:
        observations: the shared observation store (or its URL, opened once), unless every call passes one.
        assignments: the shared assignment store (SRM counts, live state), or None.
        settings: evaluation thresholds.
        traffic_per_day: fixed traffic for "days remaining" (default: measured).
        on_evaluation: called with every ``Evaluation`` (e.g. to rewrite a report file).
    """

    def __init__(
        self,
        observations: StoreArg | None = None,
        assignments: AssignmentStore | None = None,
        *,
        settings: EvaluationSettings | None = None,
        traffic_per_day: float | None = None,
        on_evaluation: Callable[[Evaluation], None] | None = None,
    ) -> None:
        self.observations: ObservationStore | None = (
            open_observation_store(observations) if observations is not None else None
        )
        self.assignments = assignments
        self.settings = settings or EvaluationSettings()
        self.traffic_per_day = traffic_per_day
        self.on_evaluation = on_evaluation
        self.last: dict[str, Evaluation] = {}
        self._steps: dict[str, int] = {}
        self._lock = threading.Lock()

    def evaluation(
        self,
        spec: ExperimentSpec,
        observations: ObservationStore | None = None,
        assignments: AssignmentStore | None = None,
    ) -> Evaluation:
        """Evaluate once more, chained with the previous look; returns the whole ``Evaluation``."""
        obs = observations or self.observations
        if obs is None:
            raise ValueError("WatchEvaluator needs an observation store (constructor or call)")
        store = assignments or self.assignments
        step = _ramp_step(spec, store)
        with self._lock:
            previous = self.last.get(spec.id)
            if self._steps.get(spec.id, step) != step:
                previous = None  # a new ramp step is a new population: its looks start afresh
            self._steps[spec.id] = step
        result = evaluate(
            spec, observations=obs, assignments=assignments or self.assignments, settings=self.settings,
            traffic_per_day=self.traffic_per_day, history=previous,
        )  # fmt: skip
        with self._lock:
            self.last[spec.id] = result
        if self.on_evaluation is not None:
            self.on_evaluation(result)
        return result

    def __call__(
        self,
        spec: ExperimentSpec,
        observations: ObservationStore | None = None,
        assignments: AssignmentStore | None = None,
    ) -> Decision:
        return self.evaluation(spec, observations, assignments).decision


class AsyncWatchEvaluator(WatchEvaluator):
    """The async twin: ``await evaluator(spec)`` runs the store queries in a worker thread."""

    async def __call__(  # type: ignore[override]
        self,
        spec: ExperimentSpec,
        observations: ObservationStore | None = None,
        assignments: AssignmentStore | None = None,
    ) -> Decision:
        result = await asyncio.to_thread(self.evaluation, spec, observations, assignments)
        return result.decision
