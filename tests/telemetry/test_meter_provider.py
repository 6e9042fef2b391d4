"""Every instrument of the library lands on the meter provider given to ``instrument()`` — the handler's,
and also routing decisions, assignment-store events and dropped observations, created elsewhere."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from routing_agent.assignment.counters import RoutingCounters
from routing_agent.stores.observations import BufferedObservationWriter, MemoryObservationStore
from routing_agent.stores.observations.observation import Observation
from routing_agent.telemetry import instrument, instrumented, uninstrument
from routing_agent.telemetry import semconv as sc
from routing_agent.testing import metric_points
from tests.telemetry.support import build_graph, experiments, scripted_catalog

NAMES = (
    "routing_agent.routing.decisions",
    "routing_agent.routing.store_events",
    "routing_agent.observations.dropped",
    sc.METRIC_CLIENT_OPERATION_DURATION,
    sc.METRIC_COST,
)


def _exercise() -> None:
    graph = build_graph(experiments(), scripted_catalog())
    for i in range(3):
        graph.invoke({"session_id": f"m-{i}", "tier": "gold"})
    RoutingCounters().event("outage")
    writer = BufferedObservationWriter(MemoryObservationStore())
    writer.close()
    writer.add(Observation("e", "v", "u", "calls", 1.0))  # after close: dropped and counted


def _seen(reader: InMemoryMetricReader) -> dict[str, float]:
    return {
        name: sum(getattr(p, "value", None) or getattr(p, "sum", 0) for p in metric_points(reader, name))
        for name in NAMES
    }


def test_instrument_meter_provider_gets_every_instrument() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    try:
        instrument(meter_provider=provider)
        _exercise()
        seen = _seen(reader)
        assert seen["routing_agent.routing.decisions"] == 3
        assert seen["routing_agent.routing.store_events"] == 1
        assert seen["routing_agent.observations.dropped"] == 1
        assert seen[sc.METRIC_CLIENT_OPERATION_DURATION] > 0 and seen[sc.METRIC_COST] > 0
    finally:
        uninstrument()
        provider.shutdown()


def test_instrumented_block_scopes_the_provider() -> None:
    inside, outside = InMemoryMetricReader(), InMemoryMetricReader()
    inner, outer = MeterProvider(metric_readers=[inside]), MeterProvider(metric_readers=[outside])
    try:
        instrument(meter_provider=outer)
        with instrumented(meter_provider=inner):
            RoutingCounters().decision("exp", "hashed")
        RoutingCounters().decision("exp", "sticky")
        assert _seen(inside)["routing_agent.routing.decisions"] == 1
        assert _seen(outside)["routing_agent.routing.decisions"] == 1
    finally:
        uninstrument()
        inner.shutdown()
        outer.shutdown()
