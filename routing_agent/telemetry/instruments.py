"""The OTel metric instruments, created once per meter, and the once-only error reporting of telemetry."""

from __future__ import annotations

__all__ = ["Instruments", "RunningSums", "TelemetryFailures"]

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation, get_meter

from routing_agent.telemetry import semconv as sc

logger = logging.getLogger("routing_agent.telemetry")

SCOPE = "routing_agent"


class RunningSums:
    """Running totals per attribute set behind an observable counter: ``add`` is a dict update.

    Counters that only need a sum (cost, unpriced calls) are reported this way; the SDK reads the totals at
    collection time. Keys are the cached attribute dicts of ``CallRecorder`` (one per model × variant).
    """

    def __init__(self) -> None:
        self._sums: dict[int, list[Any]] = {}  # id(attributes) -> [attributes, total]
        self._lock = threading.Lock()

    def add(self, value: float, attributes: Mapping[str, Any]) -> None:
        """Add ``value`` under ``attributes`` (the same dict object each time for the same attributes)."""
        cell = self._sums.get(id(attributes))
        if cell is None:
            with self._lock:
                cell = self._sums.setdefault(id(attributes), [attributes, 0.0])
        cell[1] += value

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        """The observable counter's callback: cumulative totals."""
        merged: dict[tuple[tuple[str, Any], ...], float] = {}
        for attrs, total in list(self._sums.values()):
            key = tuple(sorted(attrs.items()))
            merged[key] = merged.get(key, 0.0) + total
        return [Observation(total, dict(key)) for key, total in merged.items()]


class Instruments:
    """Histograms and counters of GenAI client calls (GenAI conventions + ``routing_agent.*``)."""

    def __init__(self, meter_provider: MeterProvider | None = None, version: str = "0.1.0") -> None:
        meter: Meter = get_meter(SCOPE, version, meter_provider)
        self.duration = meter.create_histogram(
            sc.METRIC_CLIENT_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(sc.DURATION_BUCKETS),
        )
        self.ttft = meter.create_histogram(
            sc.METRIC_CLIENT_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=list(sc.DURATION_BUCKETS),
        )
        self.tokens = meter.create_histogram(
            sc.METRIC_CLIENT_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=[float(b) for b in sc.TOKEN_BUCKETS],
        )
        self.cost = RunningSums()
        self.unpriced = RunningSums()
        meter.create_observable_counter(
            sc.METRIC_COST,
            callbacks=[self.cost.observe],
            unit="USD",
            description="Cost of priced GenAI calls in US dollars.",
        )
        meter.create_observable_counter(
            sc.METRIC_UNPRICED_CALLS,
            callbacks=[self.unpriced.observe],
            unit="{call}",
            description="GenAI calls that could not be priced.",
        )
        self.errors = meter.create_counter(
            sc.METRIC_TELEMETRY_ERRORS,
            unit="{error}",
            description="Exceptions inside routing-agent telemetry (never propagated to the graph).",
        )


class TelemetryFailures:
    """Counts telemetry-internal exceptions and logs each (where, exception type) once."""

    def __init__(self, instruments: Instruments) -> None:
        self._instruments = instruments
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.count = 0

    def record(self, where: str, exc: BaseException) -> None:
        """Count and (once per kind) log an exception; never raises."""
        try:
            kind = type(exc).__qualname__
            with self._lock:
                self.count += 1
                first = (where, kind) not in self._seen
                self._seen.add((where, kind))
            if first:
                logger.warning(
                    "routing-agent telemetry failed in %s (%s: %s); the graph continues, further "
                    "failures of this kind are counted in %s",
                    where,
                    kind,
                    exc,
                    sc.METRIC_TELEMETRY_ERRORS,
                )
            self._instruments.errors.add(1, {"routing_agent.where": where, sc.ERROR_TYPE: kind})
        except Exception:  # pragma: no cover - the last line of defence
            pass
