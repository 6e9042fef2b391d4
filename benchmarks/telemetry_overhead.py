"""Per-call overhead of routing-agent telemetry vs OpenInference and OpenLLMetry, measured in one run.

Every contender traces the same fake chat model (LangChain's ``GenericFakeChatModel`` answering a fixed
message with token usage) and exports to the real OTel SDK's in-memory span exporter and metric reader.
Overhead = median per-call CPU time with instrumentation − median without, each contender in fresh processes
(``--passes``), the contenders' processes interleaved so machine noise hits them alike. Ours records more per
call: cost (genai-prices), experiment/variant/unit, TTFT when streamed, citations, GenAI metrics, and eight
observations into a buffered observation store.

Like for like:

* every timed round ends with what a deployment pays for the work of that round: one metric collection
  (as a periodic reader would) for every contender, and, for ours, the flush of the observation writer
  (its background thread's CPU is counted: the clock is the process's CPU time, all threads);
* content capture is the same for everyone: ``--content off`` (default; ours by default, OpenLLMetry with
  ``TRACELOOP_TRACE_CONTENT=false``, OpenInference with a ``TraceConfig`` hiding inputs/outputs/messages) or
  ``--content on`` (ours with ``capture_content=True``, the peers' defaults).

Run: ``python -m benchmarks.telemetry_overhead [--calls 2000] [--rounds 5] [--passes 3] [--stream]
[--content on]`` (peers: ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from routing_agent.observations import BufferedObservationWriter, MemoryObservationStore
from routing_agent.telemetry import RoutingTelemetry

ROUTING = {
    "routing_agent.experiment": "bench",
    "routing_agent.variant": "candidate",
    "routing_agent.unit": "session",
    "routing_agent.unit_id": "s-1",
    "routing_agent.reason": "sticky",
    "routing_agent.agent": "writer",
    "routing_agent.model_id": "openai:gpt-4o",
}


def make_model() -> GenericFakeChatModel:
    reply = AIMessage(
        "The refund was approved [doc-1].",
        usage_metadata={"input_tokens": 420, "output_tokens": 36, "total_tokens": 456},
        response_metadata={
            "model_name": "gpt-4o-2024-08-06",
            "finish_reason": "stop",
            "citations": ["doc-1"],
        },
    )
    return GenericFakeChatModel(messages=itertools.repeat(reply), metadata=dict(ROUTING))


def time_calls(call: Callable[[], Any], n: int, settle: Callable[[], Any] = lambda: None) -> float:
    """CPU seconds per call of this process (all its threads: a background writer counts too), including
    ``settle()`` after the calls: the deferred work of the round (metric collection, observation flush).

    CPU time, not wall time, so other processes on a busy machine do not distort the comparison."""
    gc.collect()
    start = time.process_time()
    for _ in range(n):
        call()
    settle()
    return (time.process_time() - start) / n


class Contender:
    """Switches one instrumentation on and off around a timed block."""

    def __init__(self, name: str, content: bool = False) -> None:
        self.name = name
        self.content = content
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.config: dict[str, Any] = {}

    def on(self) -> None: ...

    def settle(self) -> None:
        """The deferred work of a round, timed with it: one metric collection (a periodic reader's)."""
        self.reader.get_metrics_data()

    def attributes_per_span(self) -> float:
        spans = self.exporter.get_finished_spans()
        return sum(len(s.attributes or {}) for s in spans) / max(len(spans), 1)

    def between_rounds(self) -> int:
        """Empty the in-memory sinks (outside the timed block); returns the spans the round produced."""
        n = len(self.exporter.get_finished_spans())
        self.exporter.clear()
        return n

    def off(self) -> None:
        self.exporter.clear()


class Baseline(Contender):
    pass


class Ours(Contender):
    def __init__(self, content: bool = False) -> None:
        super().__init__("routing-agent", content)
        self.store = MemoryObservationStore()
        self.writer = BufferedObservationWriter(self.store, max_buffer=10_000_000)
        self.handler = RoutingTelemetry(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            observations=self.writer,
            capture_content=content,
        )
        self.config = {"callbacks": [self.handler]}
        self.written = 0

    def settle(self) -> None:
        self.writer.flush(30)
        super().settle()

    def between_rounds(self) -> int:
        self.writer.flush(30)
        self.written += len(self.store._rows)
        self.store._rows.clear()
        self.store._ids.clear()
        return super().between_rounds()

    def off(self) -> None:
        self.writer.flush(30)
        super().off()


class OpenInference(Contender):
    def __init__(self, content: bool = False) -> None:
        super().__init__("OpenInference", content)
        from openinference.instrumentation.langchain import LangChainInstrumentor

        self.instrumentor = LangChainInstrumentor()

    def on(self) -> None:
        from openinference.instrumentation import TraceConfig

        hide = not self.content  # its default records inputs, outputs and messages
        config = TraceConfig(
            hide_inputs=hide, hide_outputs=hide, hide_input_messages=hide, hide_output_messages=hide
        )
        self.instrumentor.instrument(tracer_provider=self.tracer_provider, config=config)

    def off(self) -> None:
        self.instrumentor.uninstrument()
        super().off()


class OpenLLMetry(Contender):
    def __init__(self, content: bool = False) -> None:
        super().__init__("OpenLLMetry", content)
        from opentelemetry.instrumentation.langchain import LangchainInstrumentor

        self.instrumentor = LangchainInstrumentor()

    def on(self) -> None:
        # its default records prompts and completions; the documented switch turns that off
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true" if self.content else "false"
        self.instrumentor.instrument(tracer_provider=self.tracer_provider, meter_provider=self.meter_provider)

    def off(self) -> None:
        self.instrumentor.uninstrument()
        super().off()


CONTENDERS: dict[str, Callable[[bool], Contender]] = {
    "routing-agent": Ours,
    "OpenInference": OpenInference,
    "OpenLLMetry": OpenLLMetry,
}


def worker(name: str, calls: int, rounds: int, stream: bool, content: bool) -> dict[str, Any]:
    """Baseline rounds, then the contender switched on (peers cannot be reliably switched off in-process)."""
    contender = CONTENDERS[name](content)
    model = make_model()

    def call(config: dict[str, Any]) -> Callable[[], Any]:
        if stream:
            return lambda: list(model.stream("hi", config))
        return lambda: model.invoke("hi", config)

    time_calls(call({}), 300)  # warm-up
    base = [time_calls(call({}), calls, contender.settle) for _ in range(rounds)]
    contender.on()
    time_calls(call(contender.config), 300, contender.settle)
    contender.between_rounds()
    timed, spans, attrs = [], 0, 0.0
    for _ in range(rounds):
        timed.append(time_calls(call(contender.config), calls, contender.settle))
        attrs = contender.attributes_per_span()
        spans += contender.between_rounds()
    contender.off()
    extra = {"observations": contender.written / (calls * rounds)} if isinstance(contender, Ours) else {}
    return {
        "base": statistics.median(base),
        "timed": statistics.median(timed),
        "spans": spans / (calls * rounds),
        "attrs": attrs,
        **extra,
    }


class _Ladder(BaseCallbackHandler):
    """A bare tracer for the breakdown: one CLIENT span per call with the given attributes and histograms."""

    def __init__(self, c: Contender, attrs: dict[str, Any] | None = None, hist: bool = False) -> None:
        self.tracer = c.tracer_provider.get_tracer("ladder")
        self.attrs = attrs
        self.open: dict[Any, Any] = {}
        meter = c.meter_provider.get_meter("ladder")
        self.hist = [meter.create_histogram(n) for n in ("duration", "tokens")] if hist else []

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: Any, **kwargs: Any) -> None:
        self.open[run_id] = self.tracer.start_span("chat gpt-4o", kind=SpanKind.CLIENT, attributes=self.attrs)

    def on_llm_end(self, response: Any, *, run_id: Any, **kwargs: Any) -> None:
        self.open.pop(run_id).end()
        if self.hist:
            duration, tokens = self.hist
            duration.record(0.1, _METRIC)
            tokens.record(420, _TOKENS_IN)
            tokens.record(36, _TOKENS_OUT)


_METRIC = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "routing_agent.experiment": "bench",
    "routing_agent.variant": "candidate",
}  # our metric attribute sets (as cached per model and variant)
_TOKENS_IN = {**_METRIC, "gen_ai.token.type": "input"}
_TOKENS_OUT = {**_METRIC, "gen_ai.token.type": "output"}


class _NullStore(MemoryObservationStore):
    """Takes every batch and keeps nothing: our observation path without the store's own work."""

    def add(self, observations: Any) -> int:
        return sum(1 for _ in observations)


def breakdown(calls: int, rounds: int, stream: bool) -> None:
    """Where our per-call overhead goes, as a ladder of handlers in one process, rounds interleaved.

    The first five rungs are floors any tracer recording what we record pays: LangChain's dispatch to a
    handler, one OTel span (in-memory export), our chat span's attribute set, our three histogram records."""
    probe = Ours()
    make_model().invoke("hi", probe.config)
    [span] = probe.exporter.get_finished_spans()
    ours_attrs = dict(span.attributes or {})
    ladder: list[tuple[str, Contender, dict[str, Any]]] = []
    for label, attrs, hist in (
        ("LangChain dispatch (empty handler)", None, None),
        ("+ one OTel span, no attributes", {}, False),
        (f"+ our chat span's {len(ours_attrs)} attributes", ours_attrs, False),
        ("+ our 3 histogram records", ours_attrs, True),
    ):
        c = Contender(label)
        handler = BaseCallbackHandler() if attrs is None else _Ladder(c, attrs, bool(hist))
        c.config = {"callbacks": [handler]}
        ladder.append((label, c, c.config))
    no_obs = Contender("routing-agent, no observations")
    no_obs.config = {
        "callbacks": [
            RoutingTelemetry(tracer_provider=no_obs.tracer_provider, meter_provider=no_obs.meter_provider)
        ]
    }
    ladder.append((no_obs.name, no_obs, no_obs.config))
    null_store = Ours()
    null_store.writer.store = _NullStore()
    ladder.append(("routing-agent, observations to a null store", null_store, null_store.config))
    full = Ours()
    ladder.append(("routing-agent, full (memory store)", full, full.config))
    base = Contender("baseline")
    rows = [("no handler", base, {}), *ladder]
    model = make_model()

    def run(config: dict[str, Any]) -> Callable[[], Any]:
        return (lambda: list(model.stream("hi", config))) if stream else (lambda: model.invoke("hi", config))

    for _, c, config in rows:
        time_calls(run(config), 300, c.settle)
        c.between_rounds()
    times: dict[str, list[float]] = {label: [] for label, _, _ in rows}
    for _ in range(rounds):
        for label, c, config in rows:
            times[label].append(time_calls(run(config), calls, c.settle))
            c.between_rounds()
    mode = "stream" if stream else "invoke"
    print(f"\nbreakdown, {rounds} interleaved rounds x {calls} calls ({mode}); µs per call, medians (min)")
    print(f"{'':<46}{'total':>9}{'overhead':>10}{'step':>8}{'step (min)':>12}")
    first = statistics.median(times["no handler"])
    prev, prev_min = first, min(times["no handler"])
    for label, _, _ in rows:
        med, low = statistics.median(times[label]), min(times[label])
        steps = f"{(med - first) * 1e6:>10.1f}{(med - prev) * 1e6:>8.1f}{(low - prev_min) * 1e6:>12.1f}"
        print(f"{label:<46}{med * 1e6:>9.1f}{steps}")
        prev, prev_min = med, low


def main() -> None:
    import json
    import subprocess
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--passes", type=int, default=3, help="fresh processes per contender, interleaved")
    parser.add_argument("--stream", action="store_true", help="stream each call (exercises TTFT)")
    parser.add_argument(
        "--content", choices=["off", "on"], default="off", help="prompt/response capture, for every contender"
    )
    parser.add_argument("--breakdown", action="store_true", help="where our overhead goes (one process)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    content = args.content == "on"
    if args.breakdown:
        breakdown(args.calls, args.rounds, args.stream)
        return
    if args.worker:
        print(json.dumps(worker(args.worker, args.calls, args.rounds, args.stream, content)))
        return

    results: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
    for _ in range(args.passes):
        for name in CONTENDERS:
            cmd = [sys.executable, "-m", "benchmarks.telemetry_overhead", "--worker", name]
            cmd += ["--calls", str(args.calls), "--rounds", str(args.rounds), "--content", args.content]
            cmd += ["--stream"] if args.stream else []
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                reason = proc.stderr.strip().splitlines()[-1]
                print(f"{name}: not measured ({reason}); pip install -e '.[bench]'")
                results.pop(name)
                break
            results[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        else:
            continue
    mode = f"{'stream' if args.stream else 'invoke'}, content capture {args.content}"
    sizes = f"{args.passes} processes x {args.rounds} rounds x {args.calls} calls"
    print(f"\nper-call CPU time, {sizes} ({mode})")
    head = f"{'contender':<16}{'baseline µs':>13}{'with µs':>10}{'overhead µs':>13}{'spans/call':>12}"
    print(f"{head}{'attrs/span':>12}  overhead per process µs")
    overhead: dict[str, float] = {}
    for name, runs in results.items():
        if not runs:
            continue
        base = statistics.median(r["base"] for r in runs)
        timed = statistics.median(r["timed"] for r in runs)
        overhead[name] = statistics.median(r["timed"] - r["base"] for r in runs)
        row = f"{name:<16}{base * 1e6:>13.1f}{timed * 1e6:>10.1f}{overhead[name] * 1e6:>13.1f}"
        each = " ".join(f"{(r['timed'] - r['base']) * 1e6:.0f}" for r in runs)
        print(f"{row}{runs[0]['spans']:>12.2f}{runs[0]['attrs']:>12.1f}  {each}")
    peers = {k: v for k, v in overhead.items() if k != "routing-agent"}
    if peers and "routing-agent" in overhead:
        fastest = min(peers, key=lambda k: peers[k])
        ratio = overhead["routing-agent"] / peers[fastest]
        verdict = "meets" if ratio <= 0.5 else "MISSES"
        print(f"\nrouting-agent overhead / {fastest} overhead = {ratio:.2f} ({verdict} the <= 0.5 target)")


if __name__ == "__main__":
    main()
