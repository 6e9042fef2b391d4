"""The OTel metric instruments, created once per meter, and the once-only error reporting of telemetry."""

from __future__ import annotations

__all__ = ["Instruments", "TelemetryFailures"]

import logging
import threading

from opentelemetry.metrics import Meter, MeterProvider, get_meter

from routing_agent.telemetry import semconv as sc

logger = logging.getLogger("routing_agent.telemetry")

SCOPE = "routing_agent"


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
        self.cost = meter.create_counter(
            sc.METRIC_COST, unit="USD", description="Cost of priced GenAI calls in US dollars."
        )
        self.unpriced = meter.create_counter(
            sc.METRIC_UNPRICED_CALLS, unit="{call}", description="GenAI calls that could not be priced."
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
