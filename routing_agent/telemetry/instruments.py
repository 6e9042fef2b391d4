"""The OTel metric instruments, created once per meter, and the once-only error reporting of telemetry.

**Batched histograms.** A call's histogram measurements (duration, time to first chunk, input and output
tokens) are queued as one tuple and recorded into the SDK histograms 16 calls at a time, and always
before a metric collection reads them (the cost counter's callback, which the SDK runs before it collects,
records whatever is queued). Same values, attribute sets and context (for exemplars) as recording each one
as it arrives; a tight loop over a batch costs about a quarter less CPU than the same records scattered
between calls.
"""

from __future__ import annotations

__all__ = ["CallMeasurements", "Instruments", "RunningSums", "TelemetryFailures"]

import logging
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.context import Context, get_current
from opentelemetry.metrics import CallbackOptions, Histogram, Meter, MeterProvider, Observation, get_meter

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


_Attrs = Mapping[str, Any]
# duration, its attributes, ttft or None, its attributes, tokens (in, out) or None, their attributes, context
_Queued = tuple[float, _Attrs, float | None, _Attrs, tuple[int, int] | None, _Attrs, _Attrs, Context]


class CallMeasurements:
    """The histogram measurements of ended calls, recorded into the SDK in batches (see the module doc)."""

    def __init__(self, duration: Histogram, ttft: Histogram, tokens: Histogram, batch: int = 16) -> None:
        self._duration, self._ttft, self._tokens = duration, ttft, tokens
        self._queue: deque[_Queued] = deque()  # append/popleft are atomic: no lock on the hot path
        self.batch = batch

    def add(  # noqa: PLR0917
        self,
        duration: float,
        duration_attrs: _Attrs,
        ttft: float | None,
        ttft_attrs: _Attrs,
        tokens: tuple[int, int] | None,
        tokens_in_attrs: _Attrs,
        tokens_out_attrs: _Attrs,
    ) -> None:
        """Queue one call's measurements (with the caller's context); record the batch when full."""
        queue = self._queue
        queue.append(
            (
                duration,
                duration_attrs,
                ttft,
                ttft_attrs,
                tokens,
                tokens_in_attrs,
                tokens_out_attrs,
                get_current(),
            )
        )
        if len(queue) >= self.batch:
            self.record_queued()

    def record_queued(self) -> None:
        """Record everything queued into the SDK histograms (from any thread; concurrent callers share it)."""
        queue = self._queue
        duration, ttft_hist, tokens = self._duration.record, self._ttft.record, self._tokens.record
        while True:
            try:
                value, attrs, ttft, ttft_attrs, usage, in_attrs, out_attrs, ctx = queue.popleft()
            except IndexError:
                return
            duration(value, attrs, ctx)
            if ttft is not None:
                ttft_hist(ttft, ttft_attrs, ctx)
            if usage is not None:
                tokens(usage[0], in_attrs, ctx)
                tokens(usage[1], out_attrs, ctx)


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
        self.calls = CallMeasurements(self.duration, self.ttft, self.tokens)
        self.cost = RunningSums()
        self.unpriced = RunningSums()
        meter.create_observable_counter(
            sc.METRIC_COST,
            callbacks=[self._before_collection],
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

    def _before_collection(self, options: CallbackOptions) -> Iterable[Observation]:
        """The cost counter's callback: the SDK runs it before collecting, so queued calls are recorded."""
        try:
            self.calls.record_queued()
        except Exception:  # pragma: no cover - the queue must never break a collection
            logger.exception("routing-agent telemetry could not record queued measurements")
        return self.cost.observe(options)


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
