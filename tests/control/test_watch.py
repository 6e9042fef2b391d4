"""The watch loop: acts on real Decisions computed from data in the test, on every backend."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import numpy as np
import pytest

from routing_agent.config.spec import ExperimentSpec
from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.review import ReviewQueue
from routing_agent.control.rollout import Rollout
from routing_agent.control.ticks import TickAction, WatchTick
from routing_agent.control.watch import AsyncWatcher, Watcher, WatchSettings
from routing_agent.evaluation.decision import Decision, DecisionKind
from routing_agent.stores.assignments import MemoryStore
from tests.control.conftest import Backend
from tests.control.specs import make_spec
from tests.control.support import (
    better_candidate,
    conversion_decision,
    latency_decision,
    slow_candidate,
)


class LatencyFeed:
    """Latency samples arriving over time; ``evaluate`` reads what has arrived so far."""

    def __init__(self, control: np.ndarray, test: np.ndarray) -> None:
        self.control, self.test = control, test
        self.arrived = 0
        self.calls = 0

    def evaluate(self, spec: ExperimentSpec) -> Decision:
        self.calls += 1
        n = max(self.arrived, 2)
        return latency_decision(spec, self.control[:n], self.test[:n])


def test_a_guardrail_breach_rolls_back_at_once_even_with_review_required(backend: Backend) -> None:
    spec = make_spec("breach", review="required")
    feed = LatencyFeed(*slow_candidate())
    feed.arrived = 30  # below the guardrail's minimum sample: keep running
    ticks: list[WatchTick] = []
    watcher = Watcher(
        spec,
        backend.store,
        feed.evaluate,
        WatchSettings(every_s=0.05),
        reviews=backend.reviews,
        on_tick=ticks.append,
    )
    first = watcher.run(once=True)
    assert first.action is TickAction.NONE and first.decision.kind is DecisionKind.KEEP_RUNNING  # type: ignore[union-attr]
    feed.arrived = 400
    last = watcher.run()
    assert last.action is TickAction.ROLLED_BACK and last.changed and last.stop
    assert [t.action for t in ticks] == [TickAction.NONE, TickAction.ROLLED_BACK]
    (entry,) = backend.store.history("breach")
    assert entry.status is S.ROLLED_BACK and entry.actor == watcher.actor and entry.actor.startswith("watch@")
    assert entry.reason.startswith("Roll back: candidate p95 latency is 2.")
    assert entry.evidence["decision"]["guardrails"][0]["ratio"] > 1.3
    assert backend.reviews.items("breach") == []  # a rollback never waits for review
    # a new watch on a rolled-back experiment stops without evaluating
    calls = feed.calls
    again = Watcher(spec, backend.store, feed.evaluate, reviews=backend.reviews).run()
    assert again.action is TickAction.TERMINAL and feed.calls == calls


def test_a_ship_without_review_ships_the_winner(backend: Backend) -> None:
    spec = make_spec("auto-ship")
    data = better_candidate()
    last = Watcher(
        spec, backend.store, lambda s: conversion_decision(s, *data), reviews=backend.reviews
    ).run()
    assert last.action is TickAction.SHIPPED and last.stop
    state = backend.store.get_state("auto-ship")
    assert state is not None and state.status is S.SHIPPED and state.winner == "candidate"
    assert state.evidence["decision"]["evidence"]["p_value"] < 0.05


def test_a_ship_with_review_required_waits_until_approved(backend: Backend) -> None:
    spec = make_spec("needs-review", review="required")
    data = better_candidate()
    ticks: list[WatchTick] = []
    watcher = Watcher(
        spec,
        backend.store,
        lambda s: conversion_decision(s, *data),
        WatchSettings(every_s=0.05, poll_s=0.01),
        reviews=backend.reviews,
        on_tick=ticks.append,
    )
    assert watcher.run(max_ticks=3).action is TickAction.REVIEW_PENDING
    assert [t.action for t in ticks] == [
        TickAction.REVIEW_REQUESTED, TickAction.REVIEW_PENDING, TickAction.REVIEW_PENDING,
    ]  # fmt: skip
    assert backend.store.get_state("needs-review") is None  # nothing shipped while waiting
    (item,) = backend.reviews.items("needs-review")
    ReviewQueue(backend.store, backend.reviews).approve(item.id, reviewer="alice", note="ok")
    last = watcher.run()
    assert last.action is TickAction.TERMINAL and last.state.winner == "candidate"  # type: ignore[union-attr]


def test_new_observations_trigger_an_evaluation_before_the_timer() -> None:
    spec = make_spec("by-count")
    feed = LatencyFeed(*slow_candidate())
    feed.arrived = 10
    count = {"n": 0}
    first_tick = threading.Event()
    watcher = Watcher(
        spec,
        MemoryStore(),
        feed.evaluate,
        WatchSettings(every_s=60, every_n=100, poll_s=0.01),
        on_tick=lambda _: first_tick.set(),
        observation_count=lambda: count["n"],
    )

    def traffic() -> None:  # the traffic arrives after the first look, however slow the machine
        first_tick.wait(timeout=60)
        feed.arrived = 400
        count["n"] = 150

    threading.Thread(target=traffic).start()
    started = time.monotonic()
    last = watcher.run()
    assert last.action is TickAction.ROLLED_BACK
    assert time.monotonic() - started < 10  # not the 60 s timer
    assert feed.calls == 2


def test_an_evaluation_failure_is_an_error_tick_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spec = make_spec("flaky")
    feed = LatencyFeed(*slow_candidate())
    feed.arrived = 400
    failures = iter([RuntimeError("observation store timed out")])

    def evaluate(s: ExperimentSpec) -> Decision:
        for exc in failures:
            raise exc
        return feed.evaluate(s)

    ticks: list[WatchTick] = []
    with caplog.at_level(logging.INFO, logger="routing_agent.control"):
        last = Watcher(spec, MemoryStore(), evaluate, WatchSettings(every_s=0.01), on_tick=ticks.append).run()
    assert [t.action for t in ticks] == [TickAction.ERROR, TickAction.ROLLED_BACK]
    assert "observation store timed out" in ticks[0].message
    assert last.stop
    assert any("flaky" in r.message and "rolled_back" in r.message for r in caplog.records)


def test_decisions_watch_does_not_act_on() -> None:
    store = MemoryStore()
    spec = make_spec("quiet")
    invalid = Decision(spec.id, DecisionKind.INVALID, "sample-ratio mismatch: 55/45 on a 50/50 split")
    tick = Watcher(spec, store, lambda s: invalid).run(once=True)
    assert tick.action is TickAction.NONE and not tick.stop
    wrong = Decision("someone-else", DecisionKind.ROLLBACK, "x")
    tick = Watcher(spec, store, lambda s: wrong).run(once=True)
    assert tick.action is TickAction.ERROR and "not 'quiet'" in tick.message
    assert store.history("quiet") == []


def test_no_difference_ships_the_cheaper_variant_unless_told_not_to() -> None:
    spec = make_spec("cheaper")
    same = Decision(spec.id, DecisionKind.NO_DIFFERENCE, "no significant difference; candidate 4.2× cheaper",
                    winner="candidate")  # fmt: skip
    store = MemoryStore()
    tick = Watcher(spec, store, lambda s: same, WatchSettings(ship_on_no_difference=False)).run(once=True)
    assert tick.action is TickAction.NONE
    tick = Watcher(spec, store, lambda s: same).run(once=True)
    assert tick.action is TickAction.SHIPPED and tick.state.winner == "candidate"  # type: ignore[union-attr]


def test_a_ship_evaluated_on_a_state_that_changed_meanwhile_is_skipped() -> None:
    store = MemoryStore()
    spec = make_spec("moved")
    data = better_candidate()

    def evaluate(s: ExperimentSpec) -> Decision:
        Rollout(store, s).pause(actor="bob", reason="investigating")  # lands during the evaluation
        return conversion_decision(s, *data)

    tick = Watcher(spec, store, evaluate).run(once=True)
    assert tick.action is TickAction.SKIPPED and "changed since version 0" in tick.message
    assert store.get_state("moved").status is S.PAUSED  # type: ignore[union-attr]


def test_two_watchers_racing_write_one_rollback(shared_backend: Backend) -> None:
    spec = make_spec("two-watchers")
    feed = LatencyFeed(*slow_candidate())
    feed.arrived = 400
    other_store, other_reviews = shared_backend.open_again()
    barrier = threading.Barrier(2)
    ticks: list[WatchTick] = []

    def evaluate(s: ExperimentSpec) -> Decision:
        decision = feed.evaluate(s)
        barrier.wait()  # both evaluated against the running state before either applies
        return decision

    watchers = [
        Watcher(
            spec,
            shared_backend.store,
            evaluate,
            WatchSettings(actor="watch@m1:1"),
            reviews=shared_backend.reviews,
        ),
        Watcher(spec, other_store, evaluate, WatchSettings(actor="watch@m2:2"), reviews=other_reviews),
    ]
    threads = [threading.Thread(target=lambda w=w: ticks.append(w.run())) for w in watchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(t.changed for t in ticks) == [False, True]
    assert all(t.action is TickAction.ROLLED_BACK and t.stop for t in ticks)
    assert len(shared_backend.store.history("two-watchers")) == 1


async def test_the_async_watcher_rolls_back(backend: Backend) -> None:
    spec = make_spec("async-breach")
    feed = LatencyFeed(*slow_candidate())
    feed.arrived = 400

    async def evaluate(s: ExperimentSpec) -> Decision:
        await asyncio.sleep(0)
        return feed.evaluate(s)

    async def count() -> int:
        return feed.arrived

    watcher = AsyncWatcher(
        spec,
        backend.store,
        evaluate,
        WatchSettings(every_n=5),
        reviews=backend.reviews,
        observation_count=count,
    )
    last = await watcher.run()
    assert last.action is TickAction.ROLLED_BACK and last.changed
    assert backend.store.get_state("async-breach").status is S.ROLLED_BACK  # type: ignore[union-attr]


async def test_the_async_watcher_stops_on_its_event() -> None:
    spec = make_spec("async-stop")
    feed = LatencyFeed(*slow_candidate(n=20))

    async def evaluate(s: ExperimentSpec) -> Decision:
        return feed.evaluate(s)

    stop = asyncio.Event()
    watcher = AsyncWatcher(spec, MemoryStore(), evaluate, WatchSettings(every_s=30, poll_s=0.01))
    task = asyncio.create_task(watcher.run(stop=stop))
    await asyncio.sleep(0.1)
    stop.set()
    last = await asyncio.wait_for(task, 5)
    assert last.action is TickAction.NONE and watcher.ticks == 1


def test_cadence_arguments_are_checked() -> None:
    spec = make_spec("args")
    with pytest.raises(ValueError, match="needs a cadence"):
        Watcher(spec, MemoryStore(), lambda s: None, WatchSettings(every_s=None))  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="observation_count source"):
        Watcher(spec, MemoryStore(), lambda s: None, WatchSettings(every_n=10))  # type: ignore[arg-type,return-value]
