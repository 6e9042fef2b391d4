"""Tracing for ``routing-agent demo`` / ``simulate``: every session traced, every call observed.

``start_tracing(...)`` builds the exporters (always ``<workdir>/traces.jsonl``, one span per line, plus OTLP
traces *and metrics* and the console when asked) and a ``RoutingTelemetry`` handler whose per-call
observations go to the observation store (a given store or URL, else ``<workdir>/observations.sqlite3``);
``Tracing.close()`` writes the buffered observations, flushes and stops the exporters, and reports what each
OTLP exporter really did:
``traces exported to URL (N batches)`` only when every batch was accepted, else how many failed and why.
"""

from __future__ import annotations

__all__ = ["OBSERVATIONS_FILE", "TRACES_FILE", "Tracing", "export_report", "start_tracing"]

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from routing_agent.telemetry.callbacks import RoutingTelemetry
from routing_agent.telemetry.exporters import ExporterSetup, JsonLinesSpanExporter, configure_exporters

if TYPE_CHECKING:
    from routing_agent.config.spec import ExperimentsConfig
    from routing_agent.stores.observations import BufferedObservationWriter, ObservationStore

OBSERVATIONS_FILE = "observations.sqlite3"
TRACES_FILE = "traces.jsonl"


@dataclass
class Tracing:
    """A run's telemetry: the callback handler to pass to every session, and what it writes."""

    handler: RoutingTelemetry
    exporters: ExporterSetup
    writer: BufferedObservationWriter
    traces: Path
    observations_url: str | None
    """The observation store's URL when it was given as one (the evaluator reads it back)."""

    def close(self) -> list[str]:
        """Write buffered observations, flush and stop the exporters; lines worth telling the user."""
        notes: list[str] = []
        self.writer.close(30.0)
        dropped = self.writer.stats()["dropped"]
        if dropped:
            notes.append(f"[yellow]telemetry: {dropped} observations dropped[/]")
        self.exporters.force_flush(10_000)
        self.exporters.shutdown()
        notes.extend(export_report(self.exporters))
        return notes


def start_tracing(
    config: ExperimentsConfig,
    workdir: Path,
    *,
    project: str,
    workflow_name: str | None = None,
    otlp: str | None = None,
    console: bool = False,
    observations: str | ObservationStore | None = None,
) -> Tracing:
    """Exporters, observation writer and handler for one run (see the module docstring)."""
    from routing_agent.stores.observations import BufferedObservationWriter, open_observation_store

    traces = workdir / TRACES_FILE
    traces.unlink(missing_ok=True)
    exporters = configure_exporters(
        console=console,
        otlp=otlp,
        otlp_metrics=otlp is not None,
        project=project,
        extra_span_exporters=(JsonLinesSpanExporter(traces),),
    )
    target = observations if observations is not None else f"sqlite:///{workdir / OBSERVATIONS_FILE}"
    store = open_observation_store(target)
    writer = BufferedObservationWriter(store, close_store=isinstance(target, str))
    handler = RoutingTelemetry(
        tracer_provider=exporters.tracer_provider,
        meter_provider=exporters.meter_provider,
        observations=writer,
        config=config,
        workflow_name=workflow_name,
    )
    url = target if isinstance(target, str) else None
    return Tracing(handler, exporters, writer, traces, url)


def export_report(exporters: ExporterSetup) -> list[str]:
    """One honest line per OTLP exporter: exported, failed (how many, the last error), or sent nothing."""
    lines = []
    for kind, url in (("traces", exporters.endpoint), ("metrics", exporters.metrics_endpoint)):
        counts = exporters.exports().get(f"otlp-{kind}")
        if url is None or counts is None:
            continue
        if counts.batches == 0:
            lines.append(f"[yellow]{kind}: nothing was exported to {url}[/]")
        elif counts.failed == 0:
            lines.append(f"{kind} exported to [cyan]{url}[/] ({counts.batches} batches)")
        else:
            lines.append(
                f"[red]{kind} export to {url} failed: {counts.failed} of {counts.batches} batches "
                f"({counts.last_error})[/]"
            )
    return lines
