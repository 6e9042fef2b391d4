"""The decision and report steps of ``routing-agent demo`` / ``simulate``.

``add_evaluation(pipeline)`` adds three steps:

* ``outcomes`` (before ``run``): records each session's outcome metrics that an experiment names — its
  primary and secondary metrics and guardrails, e.g. the support workflow's ``resolved`` — as observations of
  the session's variant, in the same observation store as the telemetry (``ctx.extras["observations_url"]``,
  else ``<workdir>/observations.sqlite3``). Per-call telemetry metrics (latency, cost, refusal …) are left
  to the telemetry, so a session-level ``refusal`` never mixes with the per-call one.
* ``evaluate`` (after the run and the telemetry flush): evaluates every experiment against the run's
  assignment and observation stores and writes ``report.html``, ``report.md`` and ``report.json`` (one
  set per experiment, suffixed with its id when there are several) into the working directory.
* ``decision`` (after ``summarize``): prints each decision in one sentence and where the report is.
"""

from __future__ import annotations

__all__ = ["REPORT_FORMATS", "add_evaluation"]

from typing import TYPE_CHECKING, Any

from rich.text import Text

from routing_agent.assignment.records import Reason
from routing_agent.stores.observations.record import Metric, Observation

if TYPE_CHECKING:
    from routing_agent.simulation.pipeline import Pipeline, SimulationContext
    from routing_agent.simulation.runner import SessionResult

REPORT_FORMATS = ("html", "md", "json")
OBSERVATIONS_FILE = "observations.sqlite3"
_ENROLLED = {Reason.HASHED.value, Reason.STICKY.value, Reason.STORE_UNAVAILABLE.value}
_TELEMETRY = {m.value for m in Metric}
_STYLE = {
    "ship": "bold green",
    "no_difference": "bold cyan",
    "rollback": "bold red",
    "invalid": "bold magenta",
}


def _outcome_metrics(ctx: SimulationContext) -> dict[str, set[str]]:
    """Per experiment, the metrics it names that a session outcome can provide."""
    out: dict[str, set[str]] = {}
    for spec in ctx.config.experiments:
        names = {m.name for m in (spec.primary_metric, *spec.secondary_metrics) if m is not None}
        names |= {g.metric for g in spec.guardrails}
        out[spec.id] = names - _TELEMETRY
    return out


def _observations_url(ctx: SimulationContext) -> str:
    url = ctx.extras.get("observations_url")
    if isinstance(url, str):
        return url
    path = ctx.workdir / OBSERVATIONS_FILE
    ctx.outputs.setdefault("observations", path)
    url = f"sqlite:///{path}"
    ctx.extras["observations_url"] = url
    return url


def _setup(ctx: SimulationContext) -> None:
    from routing_agent.stores.observations import BufferedObservationWriter, open_observation_store

    wanted = _outcome_metrics(ctx)
    writer = BufferedObservationWriter(open_observation_store(_observations_url(ctx)), close_store=True)
    ctx.extras["outcome_writer"] = writer

    def record(result: SessionResult) -> None:
        rows: list[Observation] = []
        for experiment, assignment in result.assignments.items():
            variant = assignment.get("variant")
            if variant is None or assignment.get("reason") not in _ENROLLED:
                continue
            for name in wanted.get(experiment, ()):
                value = result.outcome.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    rows.append(
                        Observation(
                            experiment, variant, result.session_id, name, float(value),
                            id=f"{result.session_id}:outcome:{name}",
                        )
                    )  # fmt: skip
        if rows:
            writer.add_many(rows)

    ctx.observers.append(record)


def _report_name(ctx: SimulationContext, experiment: str, fmt: str) -> str:
    return f"report.{fmt}" if len(ctx.config.experiments) == 1 else f"report-{experiment}.{fmt}"


def _evaluate(ctx: SimulationContext) -> None:
    from routing_agent.evaluation.evaluator import evaluate
    from routing_agent.evaluation.report import write_report

    writer = ctx.extras.pop("outcome_writer", None)
    if writer is not None:
        writer.close(30.0)
    url = _observations_url(ctx)
    evaluations: dict[str, Any] = {}
    for spec in ctx.config.experiments:
        evaluation = evaluate(spec, observations=url, assignments=ctx.store, timeline=True)
        evaluations[spec.id] = evaluation
        for fmt in REPORT_FORMATS:
            path = write_report(evaluation, ctx.workdir / _report_name(ctx, spec.id, fmt), fmt)
            label = {"html": "HTML", "md": "Markdown", "json": "JSON"}[fmt]
            suffix = f" ({spec.id})" if len(ctx.config.experiments) > 1 else ""
            ctx.outputs[f"report, {label}{suffix}"] = path
    ctx.extras["evaluations"] = evaluations


def _print(ctx: SimulationContext) -> None:
    for experiment, evaluation in (ctx.extras.get("evaluations") or {}).items():
        kind = evaluation.decision.kind.value
        line = Text.assemble(
            ("decision ", "bold"),
            (kind.upper(), _STYLE.get(kind, "bold yellow")),
            f" ({experiment}): {evaluation.decision.summary}",
        )
        ctx.console.print(line, soft_wrap=True)
        html = ctx.workdir / _report_name(ctx, experiment, "html")
        ctx.console.print(Text.assemble("report: ", (str(html), "cyan")), soft_wrap=True)


def add_evaluation(pipeline: Pipeline) -> Pipeline:
    """Add the outcome, evaluate and decision steps (see the module docstring); returns ``pipeline``."""
    from routing_agent.simulation.pipeline import Step

    pipeline.insert_before("run", Step("outcomes", _setup))
    after = "telemetry_flush" if "telemetry_flush" in pipeline.names() else "run"
    pipeline.insert_after(after, Step("evaluate", _evaluate))
    if "summarize" in pipeline.names():
        pipeline.insert_after("summarize", Step("decision", _print))
    else:
        pipeline.insert_after("evaluate", Step("decision", _print))
    return pipeline
