"""``routing-agent demo`` and ``routing-agent simulate``: a whole workflow run offline, end to end.

``simulate(config_path, RunSettings(...))`` runs a reference workflow under a config, concurrently, against
any assignment store, writing one JSON line per session to ``outcomes.jsonl``; with ``trace=True`` every
session is traced (``traces.jsonl``, OTLP) and every call observed, and with ``decide=True`` the session
outcomes become observations and the evaluator writes its decision and reports. ``demo()`` is the main job:
the support-triage workflow from the config shipped in the package, on a fresh SQLite store, traced and
decided. Both print a summary and return a ``SimulationRun``.
"""

from __future__ import annotations

__all__ = ["DEFAULT_DEMO_SESSIONS", "RunSettings", "SimulationRun", "demo", "simulate", "workflow_for"]

import json
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.errors import ConfigError
from routing_agent.scoring.live import LiveScorer
from routing_agent.simulation import console as out
from routing_agent.simulation.reports import OutcomeRecorder, report_name, write_reports
from routing_agent.simulation.runner import RunSummary, SessionResult, plan_sessions, run_sessions
from routing_agent.simulation.tracing import OBSERVATIONS_FILE, start_tracing

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from routing_agent.evaluation.analysis import Evaluation
    from routing_agent.stores.observations import ObservationStore
    from routing_agent.workflows.base import WorkflowSpec

DEFAULT_DEMO_SESSIONS = 3000
STORE_FILE = "assignments.sqlite3"
OUTCOMES_FILE = "outcomes.jsonl"


@dataclass(frozen=True)
class RunSettings:
    """How to run a simulation: size, concurrency, where results go, and what to add to the run."""

    sessions: int = 1000
    workers: int = 16
    seed: int = 0
    time_scale: float = 0.001
    """Seconds slept per simulated second of model latency."""
    workdir: Path = Path("routing-agent-simulate")
    store: str | None = None
    """Assignment store URL or SQLite path (default: ``assignments.sqlite3`` in ``workdir``)."""
    fresh: bool = False
    """Delete the default store and observation files first."""
    trace: bool = False
    """Trace every session (``traces.jsonl``; OTLP with ``otlp``) and record per-call observations."""
    otlp: str | None = None
    console_traces: bool = False
    project: str | None = None
    """The OTel service / Phoenix project name (default ``routing-agent-<workflow>``)."""
    observations: str | ObservationStore | None = None
    """Observation store for traced calls and outcomes (default ``observations.sqlite3`` in ``workdir``)."""
    decide: bool = False
    """Evaluate, write the reports and print the decisions."""
    record: bool = True
    """Record observations: per-call telemetry (implies tracing), session outcomes, every declared scorer."""
    progress: bool = True
    session_prefix: str = "s"
    run_id: str | None = None
    """Part of every session id (``<prefix>-<run_id>-<i>``); default: fresh per run, so repeated runs on
    one store never reuse a session id."""
    score_budget_s: float = 30.0
    """Wall-clock budget of the live scorers per session."""
    mirror_rate: float = 1.0
    """Share of sessions re-run on control for pairwise scorers (citation stability, pairwise judge)."""


@dataclass
class SimulationRun:
    """What a run produced: its summary, the store's assignment counts, files written, evaluations."""

    workflow: WorkflowSpec
    settings: RunSettings
    summary: RunSummary
    stored: dict[str, dict[str, int]]
    outputs: dict[str, Path] = field(default_factory=dict)
    """What the run wrote, label → path."""
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    scoring: dict[str, dict[str, int]] = field(default_factory=dict)
    """The live scorers' counts per scorer (scored, invalid, errors, over_budget …)."""


def workflow_for(config: ExperimentsConfig, path: Path, name: str | None = None) -> WorkflowSpec:
    """The reference workflow a config is for: ``name``, else the one whose default config has this file
    name, else the one whose agents cover every agent the config names."""
    from routing_agent.workflows import WORKFLOWS, get_workflow

    if name is not None:
        return get_workflow(name)
    specs = [get_workflow(n) for n in WORKFLOWS]
    for spec in specs:
        if spec.default_config.name == path.name:
            return spec
    named = set(config.agents) | {a for exp in config.experiments for a in exp.scope}
    matches = [spec for spec in specs if named and named <= set(spec.agents)]
    if len(matches) == 1:
        return matches[0]
    raise ConfigError(
        f"cannot tell which workflow '{path}' is for (agents: {', '.join(sorted(named)) or 'none'}). "
        f"Pass --workflow ({', '.join(WORKFLOWS)})."
    )


def _prepare(config: ExperimentsConfig, config_path: Path, spec: WorkflowSpec, time_scale: float) -> None:
    from routing_agent.providers.profiles import register_profiles
    from routing_agent.providers.simulated import set_time_scale

    set_time_scale(time_scale)
    if config.simulated_profiles:
        register_profiles(config.simulated_profiles, source=str(config_path))
    spec.register_oracle()


def _store_path(settings: RunSettings) -> str:
    if settings.store is not None:
        return settings.store
    path = settings.workdir / STORE_FILE
    if settings.fresh:
        for name in (STORE_FILE, OBSERVATIONS_FILE):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{settings.workdir / name}{suffix}").unlink(missing_ok=True)
    return str(path)


def simulate(
    config_path: Path,
    settings: RunSettings | None = None,
    *,
    workflow: str | None = None,
    console: Console | None = None,
) -> SimulationRun:
    """Run a reference workflow under ``config_path`` (see the module docstring) and print a summary."""
    from routing_agent.config.loader import load_experiments
    from routing_agent.graph.node import RoutingNode

    settings = settings or RunSettings()
    console = console or Console()
    config = load_experiments(config_path)
    spec = workflow_for(config, config_path, workflow)
    settings.workdir.mkdir(parents=True, exist_ok=True)
    store = _store_path(settings)
    _prepare(config, config_path, spec, settings.time_scale)
    outputs: dict[str, Path] = {}
    notes: list[str] = []
    observers: list[Any] = []
    callbacks: list[Any] = []
    observations_url = f"sqlite:///{settings.workdir / OBSERVATIONS_FILE}"
    if isinstance(settings.observations, str):
        observations_url = settings.observations
    elif settings.decide or settings.record or (settings.trace and settings.observations is None):
        outputs["observations"] = settings.workdir / OBSERVATIONS_FILE
    tracing_on = settings.trace or settings.record
    run_id = settings.run_id or uuid.uuid4().hex[:8]
    settings = replace(settings, run_id=run_id)
    live: LiveScorer | None = None
    with ExitStack() as stack:
        routing = RoutingNode(config, store=store)
        stack.callback(routing.close)
        graph = spec.build(config, routing=routing)
        if tracing_on:
            tracing = start_tracing(
                config, settings.workdir, project=settings.project or f"routing-agent-{spec.name}",
                workflow_name=spec.name, otlp=settings.otlp, console=settings.console_traces,
                observations=settings.observations,
            )  # fmt: skip
            outputs["traces (OTel spans, JSON Lines)"] = tracing.traces
            callbacks.append(tracing.handler)
        if settings.decide or settings.record:
            recorder = OutcomeRecorder(config, observations_url)
            observers.append(recorder)
            live = LiveScorer(
                config, graph, sink=recorder.writer, budget_s=settings.score_budget_s,
                mirror_rate=settings.mirror_rate, base_dir=config_path.parent,
            )  # fmt: skip
        summary = _run(
            spec, graph, settings, console, callbacks=callbacks, observers=observers, outputs=outputs,
            after=live.score if live is not None else None,
        )  # fmt: skip
        if tracing_on:
            notes += tracing.close()
        run = SimulationRun(
            spec, settings, summary, {e.id: routing.store.counts(e.id) for e in config.experiments}
        )
        if settings.decide or settings.record:
            recorder.close()
        if settings.decide:
            run.evaluations, reports = write_reports(
                config, settings.workdir, store=store, observations_url=observations_url
            )
            outputs.update(reports)
    run.outputs = outputs
    if live is not None:
        run.scoring = live.stats()
        notes.extend(out.scoring_lines(run.scoring))
    for note in notes:
        console.print(note)
    out.print_summary(
        console, config, summary, headline=spec.headline, stored=run.stored, workers=settings.workers,
        time_scale=settings.time_scale,
    )  # fmt: skip
    out.print_outputs(console, outputs)
    html = {e: settings.workdir / report_name(config, e, "html") for e in run.evaluations}
    out.print_decisions(console, run.evaluations, html)
    return run


def _run(
    spec: WorkflowSpec,
    graph: Any,
    settings: RunSettings,
    console: Console,
    *,
    callbacks: list[Any],
    observers: list[Any],
    outputs: dict[str, Path],
    after: Any = None,
) -> RunSummary:
    """The sessions, with a progress bar, one JSON line per session in ``outcomes.jsonl``."""
    path = settings.workdir / OUTCOMES_FILE
    prefix = f"{settings.session_prefix}-{settings.run_id}" if settings.run_id else settings.session_prefix
    plans = plan_sessions(spec.items(), settings.sessions, seed=settings.seed, prefix=prefix)
    config: RunnableConfig = {"callbacks": callbacks} if callbacks else {}
    with (
        path.open("w", encoding="utf-8") as handle,
        out.progress(console, spec.name, settings.sessions, show=settings.progress) as advance,
    ):

        def write(result: SessionResult) -> None:
            handle.write(json.dumps(result.to_json(spec.name), sort_keys=True) + "\n")

        summary = run_sessions(
            graph, plans, make_input=spec.session_input, outcome=spec.outcome, workers=settings.workers,
            config=config, observers=[write, *observers, advance], after=after,
        )  # fmt: skip
    outputs["session outcomes (JSON Lines)"] = path
    return summary


def demo(
    settings: RunSettings | None = None,
    *,
    config_path: Path | None = None,
    console: Console | None = None,
) -> SimulationRun:
    """The main job offline: support triage, control vs candidate, on a fresh SQLite store, traced, decided.

    Without ``config_path`` the support config shipped in the package is used, so the demo runs from any
    directory. ``settings`` default to ``DEFAULT_DEMO_SESSIONS`` sessions in ``./routing-agent-demo``.
    """
    from routing_agent.workflows import get_workflow

    settings = settings or RunSettings(sessions=DEFAULT_DEMO_SESSIONS, workdir=Path("routing-agent-demo"))
    # a fresh store every time, so a fixed run id keeps a seed's sessions reproducible run after run
    settings = replace(settings, fresh=True, trace=True, decide=True, run_id=settings.run_id or "demo")
    path = config_path or get_workflow("support").default_config
    if not path.exists():
        raise ConfigError(f"the demo config '{path}' does not exist; pass an existing file to --config")
    console = console or Console()
    console.print(
        f"[bold]routing-agent demo[/]: {settings.sessions} support sessions, simulated models, "
        f"SQLite store in [cyan]{settings.workdir}[/], config [cyan]{path}[/]",
        soft_wrap=True,
    )
    return simulate(path, settings, workflow="support", console=console)
