"""Decisions for ``routing-agent demo`` / ``simulate``: session outcomes as observations, then the evaluator.

* ``OutcomeRecorder``: records each session's outcome metrics that an experiment names — its primary and
  secondary metrics and guardrails, e.g. the support workflow's ``resolved`` — as observations of the
  session's variant, in the run's observation store. Per-call telemetry metrics (latency, cost, refusal …)
  are left to the telemetry, so a session-level ``refusal`` never mixes with the per-call one.
* ``write_reports``: after the run (and the telemetry flush), evaluates every experiment against the run's
  assignment and observation stores and writes ``report.html``, ``report.md`` and ``report.json`` (one set
  per experiment, suffixed with its id when there are several) into the working directory.
"""

from __future__ import annotations

__all__ = ["REPORT_FORMATS", "OutcomeRecorder", "report_name", "write_reports"]

from pathlib import Path
from typing import TYPE_CHECKING

from routing_agent.assignment.types import Reason
from routing_agent.stores.observations.observation import Metric

if TYPE_CHECKING:
    from routing_agent.config.spec import ExperimentsConfig
    from routing_agent.evaluation.analysis import Evaluation
    from routing_agent.simulation.runner import SessionResult
    from routing_agent.stores.observations import BufferedObservationWriter

REPORT_FORMATS = ("html", "md", "json")
_LABEL = {"html": "HTML", "md": "Markdown", "json": "JSON"}
_ENROLLED = {Reason.HASHED.value, Reason.STICKY.value, Reason.STORE_UNAVAILABLE.value}
_TELEMETRY = {m.value for m in Metric}


class OutcomeRecorder:
    """A session observer writing the outcome metrics each experiment names to an observation store."""

    def __init__(self, config: ExperimentsConfig, observations_url: str) -> None:
        from routing_agent.stores.observations import BufferedObservationWriter, open_observation_store

        self._wanted: dict[str, set[str]] = {}
        self._segments = {spec.id: spec.segments for spec in config.experiments}
        for spec in config.experiments:
            names = {m.name for m in (spec.primary_metric, *spec.secondary_metrics) if m is not None}
            names |= {g.metric for g in spec.guardrails}
            scored = {s.name for s in spec.scorers}  # a declared scorer is the metric's one source
            self._wanted[spec.id] = names - _TELEMETRY - scored
        store = open_observation_store(observations_url)
        self._writer = BufferedObservationWriter(store, close_store=True)

    def __call__(self, result: SessionResult) -> None:
        """Record ``result``'s outcome metrics for every experiment that enrolled the session."""
        from routing_agent.graph.outcomes import record_outcome  # the public outcome API

        routing = {  # the session's recorded assignments, whole again; the live state applies
            exp: {**rec, "experiment": exp, "unit_id": result.session_id, "segments": {}}
            for exp, rec in result.assignments.items()
        }
        session = {"routing": routing}
        for experiment, assignment in result.assignments.items():
            if assignment.get("variant") is None or assignment.get("reason") not in _ENROLLED:
                continue
            segments = {  # declared segment keys the session's outcome carries (e.g. the classifier's)
                key: str(result.outcome[key])
                for key in self._segments.get(experiment, ())
                if result.outcome.get(key) is not None
            }
            for name in self._wanted.get(experiment, ()):
                value = result.outcome.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    record_outcome(
                        experiment, name, float(value), session, observations=self._writer,
                        id=f"{result.session_id}:outcome:{name}", segments=segments or None,
                    )  # fmt: skip

    @property
    def writer(self) -> BufferedObservationWriter:
        """The buffered writer outcomes go through (live scorers share it)."""
        return self._writer

    def close(self) -> None:
        """Write what is buffered and close the store."""
        self._writer.close(30.0)


def report_name(config: ExperimentsConfig, experiment: str, fmt: str) -> str:
    """``report.<fmt>``, suffixed with the experiment id when the config has several."""
    return f"report.{fmt}" if len(config.experiments) == 1 else f"report-{experiment}.{fmt}"


def write_reports(
    config: ExperimentsConfig, workdir: Path, *, store: str, observations_url: str
) -> tuple[dict[str, Evaluation], dict[str, Path]]:
    """Evaluate every experiment and write its reports; the evaluations and the files (label → path)."""
    from routing_agent.evaluation.evaluator import evaluate
    from routing_agent.evaluation.report import write_report

    evaluations: dict[str, Evaluation] = {}
    outputs: dict[str, Path] = {}
    for spec in config.experiments:
        evaluation = evaluate(spec, observations=observations_url, assignments=store, timeline=True)
        evaluations[spec.id] = evaluation
        suffix = f" ({spec.id})" if len(config.experiments) > 1 else ""
        for fmt in REPORT_FORMATS:
            path = write_report(evaluation, workdir / report_name(config, spec.id, fmt), fmt)
            outputs[f"report, {_LABEL[fmt]}{suffix}"] = path
    return evaluations, outputs
