"""Per-call overhead of routing-agent telemetry vs OpenInference and OpenLLMetry, measured in one run.

Every contender traces the same fake chat model (LangChain's ``GenericFakeChatModel`` answering a fixed
message with token usage, finish reason and citations; streamed, its last chunk carries them, as real
providers' streams do) and exports to the real OTel SDK's in-memory span exporter and metric reader.
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
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from routing_agent.stores.observations import BufferedObservationWriter, MemoryObservationStore
from routing_agent.telemetry import RoutingTelemetry

RATIO_TARGET = 1.0
"""Issue 16: our overhead at most the faster peer's, in both modes, while recording more."""

ROUTING = {
    "routing_agent.experiment": "bench",
    "routing_agent.variant": "candidate",
    "routing_agent.unit": "session",
    "routing_agent.unit_id": "s-1",
    "routing_agent.reason": "sticky",
    "routing_agent.agent": "writer",
    "routing_agent.model_id": "openai:gpt-4o",
}


REPLY = AIMessage(
    "The refund was approved [doc-1].",
    usage_metadata={"input_tokens": 420, "output_tokens": 36, "total_tokens": 456},
    response_metadata={"model_name": "gpt-4o-2024-08-06", "finish_reason": "stop", "citations": ["doc-1"]},
)


class FakeChatModel(GenericFakeChatModel):
    """LangChain's ``GenericFakeChatModel``, whose stream ends the way provider integrations' streams do
    (OpenAI's final usage chunk): a last chunk with the usage and response metadata, so a streamed call
    reports what an invoked one does (the stock fake drops both when streaming)."""

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        yield from super()._stream(messages, stop, run_manager, **kwargs)
        last = AIMessageChunk(
            content="", usage_metadata=REPLY.usage_metadata, response_metadata=REPLY.response_metadata
        )
        chunk = ChatGenerationChunk(message=last)
        if run_manager:
            run_manager.on_llm_new_token("", chunk=chunk)
        yield chunk


def make_model() -> GenericFakeChatModel:
    return FakeChatModel(messages=itertools.repeat(REPLY), metadata=dict(ROUTING))


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
        from benchmarks.telemetry_breakdown import breakdown

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
        verdict = "meets" if ratio <= RATIO_TARGET else "MISSES"
        print(
            f"\nrouting-agent overhead / {fastest} overhead = {ratio:.2f} "
            f"({verdict} the <= {RATIO_TARGET} target: no more than the faster peer)"
        )


if __name__ == "__main__":
    main()
