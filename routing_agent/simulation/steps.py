"""The default steps of the demo / simulate pipeline: prepare, build, run, summarize, close."""

from __future__ import annotations

__all__ = ["build", "close", "default_pipeline", "prepare", "run", "summarize"]

import json
from collections import Counter
from contextlib import ExitStack
from typing import IO, Any

from langchain_core.runnables import RunnableConfig
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from routing_agent.simulation.pipeline import Pipeline, SimulationContext, Step
from routing_agent.simulation.runner import SessionResult, plan_sessions, run_sessions


def prepare(ctx: SimulationContext) -> None:
    """Working directory, time scale, the config's simulated profiles, the workflow's oracle."""
    from routing_agent.providers.profiles import register_profiles
    from routing_agent.providers.simulated import set_time_scale

    ctx.workdir.mkdir(parents=True, exist_ok=True)
    set_time_scale(ctx.time_scale)
    if ctx.config.simulated_profiles:
        register_profiles(ctx.config.simulated_profiles, source=str(ctx.config_path))
    ctx.workflow.register_oracle()


def build(ctx: SimulationContext) -> None:
    """The routing node on the run's store, and the workflow's compiled graph."""
    from routing_agent.graph.node import RoutingNode

    ctx.routing = RoutingNode(ctx.config, store=ctx.store)
    ctx.graph = ctx.workflow.build(ctx.config, routing=ctx.routing)


def run(ctx: SimulationContext) -> None:
    """Run the sessions with a progress bar, writing one JSON line per session to ``outcomes.jsonl``."""
    path = ctx.workdir / "outcomes.jsonl"
    plans = plan_sessions(ctx.workflow.items(), ctx.sessions, seed=ctx.seed, prefix=ctx.session_prefix)
    config: RunnableConfig = {"callbacks": list(ctx.callbacks)} if ctx.callbacks else {}
    handle: IO[str]
    with path.open("w", encoding="utf-8") as handle:

        def write(result: SessionResult) -> None:
            handle.write(json.dumps(result.to_json(ctx.workflow.name), sort_keys=True) + "\n")

        observers = [write, *ctx.observers]
        with ExitStack() as stack:
            if ctx.progress:
                bar = stack.enter_context(
                    Progress(
                        TextColumn(f"[bold]{ctx.workflow.name}[/] sessions"),
                        BarColumn(),
                        MofNCompleteColumn(),
                        TimeElapsedColumn(),
                        console=ctx.console,
                        transient=False,
                    )
                )
                task = bar.add_task("sessions", total=ctx.sessions)
                observers.append(lambda _result: bar.advance(task))
            ctx.summary = run_sessions(
                ctx.graph,
                plans,
                make_input=ctx.workflow.session_input,
                outcome=ctx.workflow.outcome,
                workers=ctx.workers,
                config=config,
                observers=observers,
            )
    ctx.outputs["session outcomes (JSON Lines)"] = path


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}"


def summarize(ctx: SimulationContext) -> None:
    """Assignment counts (this run and the store's totals), headline outcomes per variant, files written."""
    summary = ctx.summary
    if summary is None:
        return
    rate = summary.sessions / summary.seconds if summary.seconds else 0.0
    crashed = f", [red]{summary.crashed} crashed[/]" if summary.crashed else ""
    ctx.console.print(
        f"[bold]{summary.sessions}[/] sessions in {summary.seconds:.1f} s ({rate:.0f}/s, "
        f"{ctx.workers} workers, time scale {ctx.time_scale:g}){crashed}"
    )
    for spec in ctx.config.experiments:
        primary = spec.primary_metric.name if spec.primary_metric else None
        measured = {name for sums in summary.sums.values() for name in sums}
        names = [n for n in dict.fromkeys([primary, *ctx.workflow.headline]) if n and n in measured]
        stored = ctx.routing.store.counts(spec.id) if ctx.routing is not None else {}
        models = ", ".join(f"{v.name} = {v.model}" for v in spec.variants)
        table = Table(
            title=f"experiment [bold]{spec.id}[/] · scope: {', '.join(spec.scope) or 'all agents'}",
            caption=f"{models}; assigned in the store: "
            + ", ".join(f"{v} {n}" for v, n in sorted(stored.items())),
        )
        table.add_column("variant", no_wrap=True)
        table.add_column("sessions", justify="right")
        for name in names:
            table.add_column(name + (" *" if name == primary else ""), justify="right")
        variants = [v.name for v in spec.variants]
        variants += [v for v in summary.counts.get(spec.id, Counter()) if v not in variants]
        for variant in variants:
            means = summary.means(spec.id, variant)
            count = summary.counts[spec.id][variant] if spec.id in summary.counts else 0
            table.add_row(variant, str(count), *(_fmt(means.get(name)) for name in names))
        ctx.console.print(table)
        if primary in names:
            ctx.console.print("* primary metric (means of this run; the evaluator decides with statistics)")
    for label, path in ctx.outputs.items():
        ctx.console.print(f"{label}: [cyan]{path}[/]", soft_wrap=True)


def close(ctx: SimulationContext) -> None:
    """Flush and close the routing node's store."""
    if ctx.routing is not None:
        ctx.routing.close()
        ctx.routing = None


def default_pipeline() -> Pipeline:
    """prepare → build → run → summarize → close."""
    return Pipeline(
        [
            Step("prepare", prepare),
            Step("build", build),
            Step("run", run),
            Step("summarize", summarize),
            Step("close", close),
        ]
    )
