"""Exporters wired from CLI flags and environment: console and OTLP/HTTP (Phoenix, Jaeger, a collector …).

``configure_exporters(console=True, otlp="http://127.0.0.1:6006")`` builds a ``TracerProvider`` (and a
``MeterProvider`` when metrics are exported) with batching processors, so export runs on a background thread:
an unreachable endpoint or an exporter that raises is logged by the OTel SDK and never reaches the graph.

The OTLP endpoint is the flag's URL, else ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, else
``OTEL_EXPORTER_OTLP_ENDPOINT`` (a base URL: ``/v1/traces`` is appended when missing). Headers come from
``OTEL_EXPORTER_OTLP_HEADERS`` as the exporter reads them, or ``headers=`` (e.g. MLflow's
``{"x-mlflow-experiment-id": "1"}``). OTLP needs the ``otlp`` extra. The service name is ``service_name``,
else ``OTEL_SERVICE_NAME`` (or ``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES``), else ``routing-agent``.

Every exporter is counted (``ExporterSetup.exports()``): how many batches of spans and of metrics were
exported and how many failed, so a caller can say honestly whether anything arrived.
"""

from __future__ import annotations

__all__ = [
    "ExportCounts",
    "ExporterSetup",
    "JsonLinesSpanExporter",
    "configure_exporters",
    "otlp_traces_endpoint",
]

import functools
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)

from routing_agent.errors import MissingDependency

PROJECT_ATTRIBUTE = "openinference.project.name"
"""Resource attribute Phoenix uses to pick the project spans land in."""


def otlp_traces_endpoint(url: str | None = None) -> str | None:
    """The OTLP/HTTP traces URL from ``url`` or the standard env vars; None when none is set."""
    if url is None:
        specific = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        if specific:
            return specific
        url = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not url:
        return None
    url = url.rstrip("/")
    return url if url.endswith("/v1/traces") else url + "/v1/traces"


@dataclass
class ExportCounts:
    """Batches handed to one exporter and how many of them failed (an error result or an exception)."""

    name: str
    batches: int = 0
    failed: int = 0
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wrap(self, export: Callable[..., Any]) -> Callable[..., Any]:
        """``export`` counted: its result's ``name`` must be ``SUCCESS`` (span and metric results alike)."""

        @functools.wraps(export)
        def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                result = export(*args, **kwargs)
            except Exception as exc:
                self._count(f"{type(exc).__name__}: {exc}")
                raise
            self._count(None if getattr(result, "name", "SUCCESS") == "SUCCESS" else str(result))
            return result

        return counted

    def _count(self, error: str | None) -> None:
        with self._lock:
            self.batches += 1
            if error is not None:
                self.failed += 1
                self.last_error = error


def _counted(exporter: Any, name: str, counts: list[ExportCounts]) -> Any:
    found = ExportCounts(name)
    exporter.export = found.wrap(exporter.export)
    counts.append(found)
    return exporter


@dataclass
class ExporterSetup:
    """Providers to pass to ``instrument()``; ``shutdown()`` flushes and stops the exporters."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider | None
    endpoint: str | None
    readers: list[MetricReader] = field(default_factory=list)
    counts: list[ExportCounts] = field(default_factory=list)
    metrics_endpoint: str | None = None

    def exports(self) -> dict[str, ExportCounts]:
        """Per exporter (``otlp-traces``, ``otlp-metrics``, ``console``, ``extra-N``): batches, failures."""
        return {c.name: c for c in self.counts}

    def force_flush(self, timeout_ms: int = 10_000) -> bool:
        """Export everything buffered now."""
        ok = self.tracer_provider.force_flush(timeout_ms)
        if self.meter_provider is not None:
            ok = self.meter_provider.force_flush(timeout_ms) and ok
        return ok

    def shutdown(self) -> None:
        """Flush and stop (idempotent)."""
        self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


class JsonLinesSpanExporter(SpanExporter):
    """Finished spans appended to a file, one JSON object per line (the demo's ``traces.jsonl``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed by shutdown()
        self._console = ConsoleSpanExporter(out=self._file, formatter=lambda s: s.to_json(indent=None) + "\n")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write the batch and flush it to the file."""
        return self._console.export(spans)

    def shutdown(self) -> None:
        """Close the file (idempotent)."""
        if not self._file.closed:
            self._file.close()


def _otlp_span_exporter(endpoint: str, timeout_s: float, headers: dict[str, str] | None) -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise MissingDependency("opentelemetry-exporter-otlp-proto-http", "otlp") from exc
    return OTLPSpanExporter(endpoint=endpoint, timeout=timeout_s, headers=headers)


def _resource(service_name: str | None, project: str | None) -> Resource:
    attrs: dict[str, Any] = {}
    env_named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    if service_name is not None or not env_named:
        attrs["service.name"] = service_name or "routing-agent"
    if project:
        attrs[PROJECT_ATTRIBUTE] = project
    return Resource.create(attrs)


def configure_exporters(
    *,
    console: bool = False,
    otlp: str | None = None,
    otlp_metrics: bool = False,
    service_name: str | None = None,
    project: str | None = None,
    headers: dict[str, str] | None = None,
    console_out: IO[str] | None = None,
    extra_span_exporters: tuple[SpanExporter, ...] = (),
    metric_readers: tuple[MetricReader, ...] = (),
    timeout_s: float = 5.0,
    set_global: bool = False,
) -> ExporterSetup:
    """Build providers exporting to the console and/or OTLP/HTTP.

    ``project`` sets ``openinference.project.name`` (Phoenix's project). ``otlp_metrics`` also sends metrics
    to ``<base>/v1/metrics`` (Phoenix and MLflow accept traces only: counted as failed there). ``headers``
    go with every OTLP request. ``set_global`` installs the providers globally (once per process).
    """
    resource = _resource(service_name, project)
    tracer_provider = TracerProvider(resource=resource)
    endpoint = otlp_traces_endpoint(otlp)
    counts: list[ExportCounts] = []
    if console:
        out = console_out or sys.stderr
        exporter = _counted(ConsoleSpanExporter(out=out), "console", counts)
        tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    if endpoint is not None:
        exporter = _counted(_otlp_span_exporter(endpoint, timeout_s, headers), "otlp-traces", counts)
        tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    for i, extra in enumerate(extra_span_exporters):
        tracer_provider.add_span_processor(BatchSpanProcessor(_counted(extra, f"extra-{i}", counts)))

    readers = list(metric_readers)
    metrics_url: str | None = None
    if otlp_metrics and endpoint is not None:
        try:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        except ImportError as exc:
            raise MissingDependency("opentelemetry-exporter-otlp-proto-http", "otlp") from exc
        metrics_url = endpoint[: -len("/v1/traces")] + "/v1/metrics"
        metric_exporter = OTLPMetricExporter(endpoint=metrics_url, timeout=timeout_s, headers=headers)
        readers.append(PeriodicExportingMetricReader(_counted(metric_exporter, "otlp-metrics", counts)))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers) if readers else None

    if set_global:
        from opentelemetry import metrics, trace

        trace.set_tracer_provider(tracer_provider)
        if meter_provider is not None:
            metrics.set_meter_provider(meter_provider)
    return ExporterSetup(tracer_provider, meter_provider, endpoint, readers, counts, metrics_url)
