"""Telemetry for ``routing-agent demo`` / ``simulate``: a pipeline step that traces every session.

``add_telemetry(pipeline, otlp=URL, console=False)`` inserts ``telemetry`` before ``run`` and
``telemetry_flush`` after it. ``telemetry`` builds the exporters (always ``<workdir>/traces.jsonl``, one span
per line, plus OTLP and the console when asked), appends a ``RoutingTelemetry`` handler to ``ctx.callbacks``
and sends per-call observations to the observation store; ``telemetry_flush`` writes buffered observations and
flushes and stops the exporters.

The observation store is ``ctx.extras["observation_store"]`` when a step put one there, else
``<workdir>/observations.sqlite3``; its URL is left in ``ctx.extras["observations_url"]`` for the evaluator.
"""

from __future__ import annotations

__all__ = ["OBSERVATIONS_FILE", "TRACES_FILE", "add_telemetry"]

from typing import TYPE_CHECKING, Any

from routing_agent.telemetry.callbacks import RoutingTelemetry
from routing_agent.telemetry.exporters import JsonLinesSpanExporter, configure_exporters

if TYPE_CHECKING:
    from routing_agent.simulation.pipeline import Pipeline, SimulationContext

OBSERVATIONS_FILE = "observations.sqlite3"
TRACES_FILE = "traces.jsonl"


def add_telemetry(
    pipeline: Pipeline,
    *,
    otlp: str | None = None,
    console: bool = False,
    project: str | None = None,
    observations: Any = None,
) -> Pipeline:
    """Trace the simulated sessions (see the module docstring); returns ``pipeline``."""
    from routing_agent.simulation.pipeline import Step

    def setup(ctx: SimulationContext) -> None:
        from routing_agent.stores.observations import BufferedObservationWriter, open_observation_store

        name = getattr(ctx.workflow, "name", None) or "workflow"
        traces = ctx.workdir / TRACES_FILE
        traces.unlink(missing_ok=True)
        exporters = configure_exporters(
            console=console,
            otlp=otlp,
            project=project or f"routing-agent-{name}",
            extra_span_exporters=(JsonLinesSpanExporter(traces),),
        )
        ctx.outputs["traces (OTel spans, JSON Lines)"] = traces
        target = observations or ctx.extras.get("observation_store")
        if target is None:
            target = f"sqlite:///{ctx.workdir / OBSERVATIONS_FILE}"
            ctx.outputs["observations"] = ctx.workdir / OBSERVATIONS_FILE
        if isinstance(target, str):
            ctx.extras["observations_url"] = target
        store = open_observation_store(target)
        writer = BufferedObservationWriter(store, close_store=isinstance(target, str))
        handler = RoutingTelemetry(
            tracer_provider=exporters.tracer_provider,
            meter_provider=exporters.meter_provider,
            observations=writer,
            config=ctx.config,
        )
        ctx.callbacks.append(handler)
        ctx.extras["telemetry"] = handler
        ctx.extras["telemetry_exporters"] = exporters
        ctx.extras["telemetry_writer"] = writer

    def flush(ctx: SimulationContext) -> None:
        writer = ctx.extras.get("telemetry_writer")
        if writer is not None:
            writer.close(30.0)
            stats = writer.stats()
            if stats["dropped"]:
                ctx.console.print(f"[yellow]telemetry: {stats['dropped']} observations dropped[/]")
        exporters = ctx.extras.get("telemetry_exporters")
        if exporters is not None:
            exporters.force_flush(10_000)
            exporters.shutdown()
            if exporters.endpoint:
                ctx.console.print(f"traces exported to [cyan]{exporters.endpoint}[/]")

    pipeline.insert_before("run", Step("telemetry", setup))
    pipeline.insert_after("run", Step("telemetry_flush", flush))
    return pipeline
