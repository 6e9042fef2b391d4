"""Real OTel SDK providers with in-memory exporters, and a handler wired to them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from routing_agent.stores.observations import BufferedObservationWriter, MemoryObservationStore
from routing_agent.telemetry import RoutingTelemetry
from routing_agent.testing import metric_points


@dataclass
class Otel:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    spans_exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self) -> list[ReadableSpan]:
        return list(self.spans_exporter.get_finished_spans())

    def metric_points(self, name: str) -> list[Any]:
        return metric_points(self.reader, name)


@pytest.fixture
def otel() -> Iterator[Otel]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Otel(tracer_provider, meter_provider, exporter, reader)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
def obs_store() -> MemoryObservationStore:
    return MemoryObservationStore()


@pytest.fixture
def handler(otel: Otel, obs_store: MemoryObservationStore) -> Iterator[RoutingTelemetry]:
    writer = BufferedObservationWriter(obs_store, flush_interval_s=0.01)
    h = RoutingTelemetry(
        tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider, observations=writer
    )
    yield h
    writer.close()
