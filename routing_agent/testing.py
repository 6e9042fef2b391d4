"""Helpers for your own tests: the same doubles routing-agent is tested with.

* ``MemoryStore`` / ``MemoryObservationStore`` — real stores that live in this process.
* ``SimulatedChatModel`` — an offline LangChain chat model with profiles (``simulated:fast-cheap``, …).
* ``echo_catalog()`` — a model catalog whose ``echo:<name>`` models answer every prompt with ``<name>``, so
  a test can see which model an agent was given: ``routed_model(state, config, models=echo_catalog())``.
* ``capture_telemetry()`` — the real OpenTelemetry SDK with in-memory span and metric exporters, wired to
  routing-agent's handler for the ``with`` block, plus the observations the calls produced.
* ``metric_points(reader, name)`` — the data points an ``InMemoryMetricReader`` holds for one metric.

Example::

    with capture_telemetry(config=experiments) as telemetry:
        graph.invoke({"session_id": "s1", ...})
    assert {s.attributes["routing_agent.variant"] for s in telemetry.spans("chat")} == {"candidate"}
"""

from __future__ import annotations

__all__ = [
    "CapturedTelemetry",
    "MemoryObservationStore",
    "MemoryStore",
    "SimulatedChatModel",
    "capture_telemetry",
    "echo_catalog",
    "metric_points",
    "variants_seen",
]

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.graph.state import ROUTING_KEY
from routing_agent.providers.catalog import ModelCatalog
from routing_agent.providers.simulated import SimulatedChatModel
from routing_agent.stores.assignments.memory import MemoryStore
from routing_agent.stores.observations import BufferedObservationWriter, MemoryObservationStore
from routing_agent.stores.observations.observation import Observation
from routing_agent.telemetry import RoutingTelemetry, instrumented


def echo_catalog() -> ModelCatalog:
    """A catalog whose ``echo:<name>`` models answer every prompt with ``<name>``."""
    models = ModelCatalog()
    models.register("echo", lambda name, params: FakeListChatModel(responses=[name]))
    return models


def variants_seen(outputs: Iterable[Mapping[str, Any]], experiment: str) -> set[str | None]:
    """The variants of ``experiment`` recorded in the ``routing`` key of graph outputs."""
    return {(out.get(ROUTING_KEY) or {}).get(experiment, {}).get("variant") for out in outputs}


def metric_points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    """Data points of the metric called ``name`` that ``reader`` has collected."""
    data = reader.get_metrics_data()
    points: list[Any] = []
    if data is None:
        return points
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    points.extend(metric.data.data_points)
    return points


@dataclass
class CapturedTelemetry:
    """What ``capture_telemetry`` recorded: finished spans, metric points and observations."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    observations: MemoryObservationStore
    handler: RoutingTelemetry

    def spans(self, operation: str | None = None) -> list[ReadableSpan]:
        """Finished spans, optionally only those whose ``gen_ai.operation.name`` is ``operation``."""
        spans = list(self.exporter.get_finished_spans())
        if operation is None:
            return spans
        return [s for s in spans if (s.attributes or {}).get("gen_ai.operation.name") == operation]

    def metric_points(self, name: str) -> list[Any]:
        """Data points of the metric called ``name``."""
        return metric_points(self.reader, name)

    def observed(self, experiment: str, metric: str | None = None) -> list[Observation]:
        """Observations of ``experiment`` written so far (flushes the buffer first)."""
        self.handler.flush()
        return list(self.observations.observations(experiment, metric))


@contextmanager
def capture_telemetry(
    config: ExperimentsConfig | None = None, *, capture_content: bool | None = None
) -> Iterator[CapturedTelemetry]:
    """Instrument every LangChain/LangGraph run in the block with in-memory OTel exporters."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    store = MemoryObservationStore()
    writer = BufferedObservationWriter(store, flush_interval_s=0.01)
    handler = RoutingTelemetry(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        observations=writer,
        config=config,
        capture_content=capture_content,
    )
    try:
        with instrumented(handler):
            yield CapturedTelemetry(exporter, reader, store, handler)
    finally:
        handler.flush()
        writer.close()
        tracer_provider.shutdown()
        meter_provider.shutdown()
