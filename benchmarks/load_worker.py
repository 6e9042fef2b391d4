"""One load-generating OS process of ``benchmarks/load.py``: threads and asyncio tasks driving the reference
workflows through real routing nodes, telemetry and stores, recording what every LLM call was routed to.

Run by ``multiprocessing`` (spawn). Each process builds one graph per workflow with its own ``RoutingNode``
(timed), one ``RoutingTelemetry`` per workflow writing observations through a ``BufferedObservationWriter``
(behind a counting sink, so "accepted" is counted outside the code under test), and a ``SeenCalls`` handler
that records the variant of every routed chat-model call per (experiment, unit). Units are drawn from a
window of ids that slides with time, so the same new unit reaches several processes and threads at once:
the race a sticky store must win.
"""

from __future__ import annotations

__all__ = ["SeenCalls", "WorkerArgs", "WorkerReport", "run_worker"]

import asyncio
import random
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from routing_agent.graph import RoutingNode
from routing_agent.graph import metadata as meta
from routing_agent.stores.observations import BufferedObservationWriter, Observation, open_observation_store
from routing_agent.telemetry import RoutingTelemetry

_OFF_THE_BOOKS = {"judge", "shadow"}


@dataclass(frozen=True)
class WorkerArgs:
    """What one load process runs (picklable)."""

    index: int
    store_url: str
    obs_url: str
    workflows: tuple[str, ...]
    threads: int
    tasks: int
    duration_s: float
    time_scale: float = 0.001
    window: int = 24
    """Units live at once per workflow: every session draws one of them."""
    advance_per_s: float = 12.0
    """How fast the window of unit ids slides (new units per second per workflow)."""
    seed: int = 0
    sessions: int = 0
    """Sessions per driver (thread or asyncio task) instead of ``duration_s``; the window then slides by
    one unit every ``advance_every`` sessions of a driver, so what is run does not depend on machine speed."""
    advance_every: int = 5


@dataclass
class WorkerReport:
    """What one process saw and did."""

    index: int
    sessions: int = 0
    elapsed_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    """Exceptions that reached the caller of ``graph.invoke``: must stay empty."""
    seen: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    """(experiment, unit id) → variants seen by that unit's routed LLM calls."""
    calls: dict[str, int] = field(default_factory=dict)
    """Experiment → routed LLM calls (each one yields exactly one ``calls`` observation)."""
    accepted: int = 0
    written: int = 0
    dropped: int = 0
    buffered: int = 0
    overhead_s: list[float] = field(default_factory=list)
    """Wall time of every routing-node invocation (decision, store round trip, state write)."""
    routing: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Workflow → ``RoutingNode.stats()`` after the run."""


class SeenCalls(BaseCallbackHandler):
    """Records the variant of every routed chat-model call (the ground truth of "no split units")."""

    run_inline = True

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.seen: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.calls: Counter[str] = Counter()

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        md: Mapping[str, Any] = kwargs.get("metadata") or {}
        experiment, variant, unit = md.get(meta.EXPERIMENT), md.get(meta.VARIANT), md.get(meta.UNIT_ID)
        if md.get("routing_agent.role") in _OFF_THE_BOOKS or not (experiment and variant and unit):
            return
        with self.lock:
            self.seen[(str(experiment), str(unit))].add(str(variant))
            self.calls[str(experiment)] += 1


class CountingSink:
    """Counts observations handed to the writer (accepted), then passes them on unchanged."""

    def __init__(self, writer: BufferedObservationWriter) -> None:
        self.writer = writer
        self.accepted = 0
        self._lock = threading.Lock()

    def add_many(self, observations: Sequence[Observation]) -> None:
        with self._lock:
            self.accepted += len(observations)
        self.writer.add_many(observations)

    def flush(self, timeout_s: float = 5.0) -> bool:
        return self.writer.flush(timeout_s)


class TimedRoutingNode(RoutingNode):
    """A ``RoutingNode`` that records how long each of its invocations took."""

    def __init__(self, *args: Any, durations: list[float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.durations = durations

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            return super().invoke(input, config, **kwargs)
        finally:
            self.durations.append(time.perf_counter() - start)

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            return await super().ainvoke(input, config, **kwargs)
        finally:
            self.durations.append(time.perf_counter() - start)


@dataclass
class _Flow:
    name: str
    graph: Any
    node: TimedRoutingNode
    items: Sequence[Mapping[str, Any]]
    session_input: Any
    config: dict[str, Any]


def _build(args: WorkerArgs, seen: SeenCalls, sink: CountingSink, durations: list[float]) -> list[_Flow]:
    from routing_agent.config.loader import load_experiments
    from routing_agent.providers.simulated import set_time_scale
    from routing_agent.workflows import get_workflow

    set_time_scale(args.time_scale)
    flows = []
    tracer_provider, meter_provider = TracerProvider(), MeterProvider()
    for name in args.workflows:
        spec = get_workflow(name)
        config = load_experiments(spec.default_config)
        node = TimedRoutingNode(config, store=args.store_url, durations=durations, state_refresh_s=1.0)
        graph = spec.build(config, routing=node)
        telemetry = RoutingTelemetry(
            tracer_provider=tracer_provider, meter_provider=meter_provider, observations=sink, config=config
        )
        flows.append(
            _Flow(name, graph, node, spec.items(), spec.session_input, {"callbacks": [telemetry, seen]})
        )
    return flows


def _unit(flow: _Flow, rng: random.Random, elapsed: float, done: int, args: WorkerArgs) -> str:
    """A unit id from the window: where it stands after ``elapsed`` seconds (or ``done`` sessions)."""
    base = done // args.advance_every if args.sessions else int(elapsed * args.advance_per_s)
    return f"{flow.name}-{base + rng.randrange(args.window):07d}"


def run_worker(args: WorkerArgs, barrier: Any, out: Any) -> None:
    """Build, wait for every process at ``barrier``, drive load for ``duration_s``, put a ``WorkerReport``."""
    report = WorkerReport(args.index)
    try:
        seen = SeenCalls()
        store = open_observation_store(args.obs_url)
        writer = BufferedObservationWriter(store, flush_interval_s=0.05)  # default retries: ~6 s
        sink = CountingSink(writer)
        flows = _build(args, seen, sink, report.overhead_s)
        barrier.wait(timeout=300)
        _drive(args, flows, report)
        writer.close(timeout_s=60)
        store.close()
        for flow in flows:
            flow.node.close()  # flushes write-backs still pending
            report.routing[flow.name] = flow.node.stats()
        stats = writer.stats()
        report.seen = dict(seen.seen)
        report.calls = dict(seen.calls)
        report.accepted = sink.accepted
        report.written, report.dropped, report.buffered = (
            stats["written"],
            stats["dropped"],
            stats["buffered"],
        )
    except BaseException:  # report instead of dying silently
        report.errors.append(traceback.format_exc())
    out.put(report)


def _drive(args: WorkerArgs, flows: list[_Flow], report: WorkerReport) -> None:
    start = time.monotonic()
    deadline = start + args.duration_s
    lock = threading.Lock()
    counts = [0]

    def more(done: int) -> bool:
        return done < args.sessions if args.sessions else time.monotonic() < deadline

    def one_sync(flow: _Flow, rng: random.Random, done: int) -> None:
        unit = _unit(flow, rng, time.monotonic() - start, done, args)
        item = flow.items[rng.randrange(len(flow.items))]
        try:
            flow.graph.invoke(flow.session_input(item, unit), flow.config)
        except Exception:
            with lock:
                report.errors.append(traceback.format_exc())

    def thread_body(t: int) -> None:
        rng = random.Random(f"{args.seed}-{args.index}-{t}")
        i = 0
        while more(i):
            one_sync(flows[(t + i) % len(flows)], rng, i)
            i += 1
        with lock:
            counts[0] += i

    async def task_body(t: int) -> int:
        rng = random.Random(f"{args.seed}-{args.index}-async-{t}")
        i = 0
        while more(i):
            flow = flows[(t + i) % len(flows)]
            unit = _unit(flow, rng, time.monotonic() - start, i, args)
            item = flow.items[rng.randrange(len(flow.items))]
            try:
                await flow.graph.ainvoke(flow.session_input(item, unit), flow.config)
            except Exception:
                report.errors.append(traceback.format_exc())
            i += 1
        return i

    def loop_body() -> None:
        async def main() -> None:
            done = await asyncio.gather(*(task_body(t) for t in range(args.tasks)))
            for flow in flows:  # close this loop's async Redis clients; the stores stay usable
                release = getattr(flow.node.store, "arelease", None)
                if release is not None:
                    await release()
            with lock:
                counts[0] += sum(done)

        asyncio.run(main())

    threads = [threading.Thread(target=thread_body, args=(t,), name=f"load-{t}") for t in range(args.threads)]
    if args.tasks:
        threads.append(threading.Thread(target=loop_body, name="load-async"))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.sessions = counts[0]
    report.elapsed_s = time.monotonic() - start
