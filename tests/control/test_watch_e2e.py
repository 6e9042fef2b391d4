"""Acceptance: a candidate with 2× control's p95 latency is rolled back by ``watch`` while the graph serves.

Everything is real: two workers (each its own ``RoutingNode``, Redis client and compiled LangGraph graph of
three agents) serve sessions in threads; every agent calls its routed simulated model (control
``simulated:strong-expensive``, candidate ``simulated:slow-candidate``, about twice the p95 latency);
routing-agent's telemetry turns every call into ``latency_s`` observations in a shared Redis observation
store; ``watch`` runs the built-in evaluator (``WatchEvaluator``: always-valid guardrail tests chained from
look to look) every 100 newly observed units. When the guardrail breaches, ``watch`` rolls back, and every
session started once the rollback is visible (``state_refresh_s``) gets control on both workers.
"""

from __future__ import annotations

import contextlib
import operator
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from routing_agent.assignment.types import Reason
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.ticks import TickAction, WatchTick
from routing_agent.control.watch import Watcher, WatchSettings
from routing_agent.evaluation.decision import DecisionKind
from routing_agent.evaluation.watching import WatchEvaluator
from routing_agent.graph import RoutingNode, RoutingState, routed_model
from routing_agent.graph import metadata as meta
from routing_agent.stores.assignments.redis import RedisStore
from routing_agent.stores.observations import BufferedObservationWriter
from routing_agent.stores.observations.redis import RedisObservationStore
from routing_agent.telemetry import instrument, uninstrument
from tests.control.serving import stop_serving
from tests.support.time_scale import instant_models

EXPERIMENT = "slow-release"
AGENTS = ("classifier", "drafter", "reviewer")
REFRESH_S = 0.2

CONFIG = {
    "default_model": {"model": "simulated:strong-expensive"},
    "experiments": [
        {
            "id": EXPERIMENT,
            "variants": [
                {"name": "control", "model": "simulated:strong-expensive", "control": True},
                {"name": "candidate", "model": "simulated:slow-candidate"},
            ],
            "guardrails": [
                {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3, "min_sample": 100}
            ],
        }
    ],
}


class State(RoutingState, total=False):
    session_id: str
    seen: Annotated[list[dict[str, Any]], operator.add]


def agent(name: str):  # type: ignore[no-untyped-def]
    def run(state: State, config: RunnableConfig) -> dict[str, Any]:
        llm = routed_model(state, config)
        with contextlib.suppress(Exception):  # simulated models fail like real ones; the workflow goes on
            llm.invoke(f"{name}: triage support ticket {state['session_id']}: my invoice is wrong")
        md = llm.metadata or {}
        return {"seen": [{"agent": name, "variant": md.get(meta.VARIANT), "model": md.get(meta.MODEL_ID)}]}

    return run


def build(config: ExperimentsConfig, store: RedisStore) -> tuple[Any, RoutingNode]:
    node = RoutingNode(config, store=store, state_refresh_s=REFRESH_S)
    g = StateGraph(State)
    g.add_node("route", node)
    g.add_edge(START, "route")
    previous = "route"
    for name in AGENTS:
        g.add_node(name, agent(name))
        g.add_edge(previous, name)
        previous = name
    g.add_edge(previous, END)
    return g.compile(), node


@dataclass(frozen=True)
class Served:
    session: str
    started: float
    variant: str
    reason: str
    models: tuple[str, ...]


def serve(graph: Any, worker: str, stop: threading.Event, out: list[Served]) -> None:
    i = 0
    while not stop.is_set():
        session = f"{worker}-{i}"
        started = time.time()
        result = graph.invoke({"session_id": session, "seen": []})
        routing = result["routing"][EXPERIMENT]
        models = tuple(s["model"] for s in result["seen"])
        out.append(Served(session, started, routing["variant"], routing["reason"], models))
        i += 1


@pytest.fixture
def telemetry(redis_url: str, redis_prefix: str) -> Iterator[RedisObservationStore]:
    """Process-wide instrumentation writing observations to a Redis observation store (no sleeping)."""
    with instant_models():  # simulated latencies are reported, not slept
        obs = RedisObservationStore.from_url(redis_url, prefix=redis_prefix)
        writer = BufferedObservationWriter(obs, flush_interval_s=0.05)
        tracer, meter = TracerProvider(), MeterProvider()
        instrument(tracer_provider=tracer, meter_provider=meter, observations=writer)
        try:
            yield obs
        finally:
            uninstrument()
            writer.close()
            tracer.shutdown()
            meter.shutdown()
            obs.close()


def test_watch_with_the_real_evaluator_rolls_back_a_slow_candidate_while_serving(
    telemetry: RedisObservationStore, redis_url: str, redis_prefix: str
) -> None:
    config = ExperimentsConfig.model_validate(CONFIG)
    spec = config.get(EXPERIMENT)
    stores = [RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0) for _ in range(3)]
    workers = {name: build(config, store) for name, store in zip(("w1", "w2"), stores, strict=False)}
    served: dict[str, list[Served]] = {name: [] for name in workers}
    stop = threading.Event()
    threads = [
        threading.Thread(target=serve, args=(graph, name, stop, served[name]), daemon=True)
        for name, (graph, _) in workers.items()
    ]
    ticks: list[WatchTick] = []
    evaluator = WatchEvaluator(telemetry, stores[2])
    watcher = Watcher(
        spec,
        stores[2],
        evaluator,
        WatchSettings(every_s=10.0, every_n=100, poll_s=0.05),
        on_tick=ticks.append,
        observation_count=lambda: sum(telemetry.counts_by_variant(EXPERIMENT).values()),
    )
    try:
        for t in threads:
            t.start()
        done = threading.Event()
        runner = threading.Thread(target=watcher.run, kwargs={"stop": done}, daemon=True)
        runner.start()
        runner.join(timeout=120)
        done.set()
        assert ticks and ticks[-1].action is TickAction.ROLLED_BACK, [t.line() for t in ticks]
        visible = time.time() + REFRESH_S + 0.1  # the write is done; caches expire within REFRESH_S
        give_up = time.time() + 60
        while (
            time.time() < give_up and min(sum(s.started > visible for s in v) for v in served.values()) < 20
        ):
            time.sleep(0.05)
    finally:
        stop_serving(stop, threads, workers)

    last = ticks[-1]
    assert last.changed and last.decision is not None and last.decision.kind is DecisionKind.ROLLBACK
    (breach,) = last.decision.breached
    assert breach.metric == "latency_s" and breach.statistic == "p95" and breach.ratio is not None
    assert breach.ratio > 1.3 and breach.n_control >= 100 and breach.n_test >= 100
    assert all(t.action in (TickAction.NONE, TickAction.ROLLED_BACK) for t in ticks[:-1])
    (entry,) = stores[2].history(EXPERIMENT)
    assert entry.status is S.ROLLED_BACK and entry.actor.startswith("watch@")
    assert entry.evidence["decision"]["guardrails"]
    stores[2].close()

    for name, sessions in served.items():
        before = [s for s in sessions if s.started < last.at]
        after = [s for s in sessions if s.started > visible]
        assert {s.variant for s in before} == {"control", "candidate"}, name
        assert len(after) >= 20, name
        for s in after:  # every later session of every worker: control's model on every agent
            assert (s.variant, s.reason) == ("control", Reason.ROLLED_BACK.value), (name, s)
            assert s.models == ("simulated:strong-expensive",) * 3
