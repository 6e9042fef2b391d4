"""``watch`` rolls a slow candidate back while two workers serve a real LangGraph graph over a shared Redis.

Two "workers" (each its own ``RoutingNode``, Redis client and compiled graph) serve sessions in threads and
record each session's latency as an observation in a shared Redis observation store (the candidate is drawn
twice as slow). ``Watcher`` evaluates every 50 new units; the evaluation reads the observation store and
computes the p95 ratio from the data (``tests.control.cli_evaluators.p95_latency``). Once the guardrail
breaches, ``watch`` rolls back; every session started after the rollback is visible (``state_refresh_s``)
gets control with reason ``rolled_back``, on both workers, including units that had the candidate before.

For the real evaluator instead, pass ``WatchEvaluator(obs, stores[2])`` (as test_watch_e2e does).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from routing_agent.assignment.types import Reason
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.ticks import TickAction
from routing_agent.control.watch import Watcher, WatchSettings
from routing_agent.evaluation.decision import DecisionKind
from routing_agent.stores.assignments.redis import RedisStore
from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.redis import RedisObservationStore
from tests.control.cli_evaluators import p95_latency
from tests.control.serving import stop_serving
from tests.control.specs import make_spec
from tests.graph.conftest import build_graph

EXPERIMENT = "latency-exp"
REFRESH_S = 0.2


def make_config() -> ExperimentsConfig:
    return ExperimentsConfig.model_validate(
        {"default_model": {"model": "echo:default-model"}, "experiments": [make_spec(EXPERIMENT)]}
    )


@dataclass(frozen=True)
class Served:
    worker: str
    session: str
    started: float  # time.time() before invoke
    variant: str
    reason: str
    answers: tuple[str, ...]  # what each agent's model actually answered


def serve(
    worker: str, graph: Any, obs: RedisObservationStore, stop: threading.Event, out: list[Served], seed: int
) -> None:
    """Serve new sessions until ``stop``; every 5th revisits an earlier session that had the candidate."""
    rng = np.random.default_rng(seed)
    had_candidate: list[str] = []
    i = 0
    while not stop.is_set():
        revisit = i % 5 == 4 and had_candidate
        session = had_candidate[(i // 5) % len(had_candidate)] if revisit else f"{worker}-s{i}"
        started = time.time()
        result = graph.invoke({"session_id": session, "tier": "pro", "seen": []})
        routing = result["routing"][EXPERIMENT]
        seen = result["seen"]
        served = Served(worker, session, started, routing["variant"], routing["reason"],
                        tuple(s["answer"] for s in seen))  # fmt: skip
        out.append(served)
        if served.variant == "candidate" and served.reason == Reason.HASHED.value:
            had_candidate.append(session)
        latency = float(rng.lognormal(0.0, 0.3)) * (2.0 if served.variant == "candidate" else 1.0)
        obs.add([Observation(EXPERIMENT, served.variant, session, "latency_s", latency, id=f"{session}-{i}")])
        i += 1
        time.sleep(0.002)


def _fewest_after(served: dict[str, list[Served]], rolled_back_at: float) -> int:
    """Sessions each worker started once the rollback was surely visible; the fewer of the two."""
    return min(sum(s.started > rolled_back_at + REFRESH_S + 0.1 for s in v) for v in served.values())


def test_watch_rolls_back_while_two_workers_serve_and_every_later_session_gets_control(
    redis_url: str, redis_prefix: str
) -> None:
    config = make_config()
    spec = config.get(EXPERIMENT)
    stores = [RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0) for _ in range(3)]
    obs = RedisObservationStore.from_url(redis_url, prefix=redis_prefix)
    workers = {
        name: build_graph(config, store, state_refresh_s=REFRESH_S)
        for name, store in zip(("w1", "w2"), stores[:2], strict=True)
    }
    served: dict[str, list[Served]] = {name: [] for name in workers}
    stop = threading.Event()
    threads = [
        threading.Thread(target=serve, args=(name, graph, obs, stop, served[name], seed), daemon=True)
        for seed, (name, (graph, _)) in enumerate(workers.items())
    ]
    ticks = []
    try:
        for t in threads:
            t.start()
        watcher = Watcher(
            spec,
            stores[2],
            lambda spec: p95_latency(spec, obs),
            WatchSettings(every_s=5.0, every_n=50, poll_s=0.02),
            observation_count=lambda: sum(obs.counts_by_variant(EXPERIMENT).values()),
            on_tick=ticks.append,
        )
        last = watcher.run(stop=threading.Event())
        rolled_back_at = time.time()  # the write is done by now (the state's changed_at precedes it)
        # keep serving well past the refresh period, then stop
        deadline, give_up = time.time() + 6 * REFRESH_S, time.time() + 60
        while time.time() < give_up and (
            time.time() < deadline or _fewest_after(served, rolled_back_at) < 25
        ):
            time.sleep(0.05)
    finally:
        stop_serving(stop, threads, workers)
        obs.close()
        stores[2].close()

    assert last.action is TickAction.ROLLED_BACK and last.changed, [t.line() for t in ticks]
    assert ticks[0].decision is not None and ticks[-1].decision.kind is DecisionKind.ROLLBACK  # type: ignore[union-attr]
    reader = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    (entry,) = reader.history(EXPERIMENT)
    reader.close()
    assert entry.status is S.ROLLED_BACK and entry.actor.startswith("watch@")
    assert entry.evidence["decision"]["guardrails"][0]["ratio"] > 1.3

    for name, sessions in served.items():
        before = [s for s in sessions if s.started < rolled_back_at]
        after = [s for s in sessions if s.started > rolled_back_at + REFRESH_S + 0.1]
        assert {s.variant for s in before} == {"control", "candidate"}, name  # the test really ran
        assert len(after) >= 25, name
        for s in after:  # every later session of every worker: control, because it was rolled back
            assert (s.variant, s.reason) == ("control", Reason.ROLLED_BACK.value), (name, s)
            assert s.answers == ("control-model",) * 3  # every agent really ran control's model
        had_candidate = {s.session for s in before if s.variant == "candidate"}
        assert had_candidate & {s.session for s in after}, name  # returning candidate units got control too
        stats = workers[name][1].stats()["decisions"][EXPERIMENT]
        assert stats["rolled_back"] >= len(after)
