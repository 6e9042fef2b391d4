"""Redis losing data without an error, the way production does it: ``allkeys-lru`` eviction, ``kill -9`` and a
restart without persistence, ``FLUSHDB`` while workers route. Each against a real server started here, with
real LangGraph graphs: two workers that routed before the fault and one started after it.

Before the anchor, each of these silently flipped units after a legal weight change and undid a rollback
(issue 15: 40 % of units flipped, the rollback evicted while ``status`` showed ``running``). Now: 0 units
silently flipped (a unit keeps its variant or goes to control with reason ``store_lost``), 0 rollbacks undone,
the loss is counted, logged once per worker, shown by ``status``, and lasts until a person acknowledges it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from routing_agent.control.rollout import Rollout
from routing_agent.control.status import experiment_status
from routing_agent.evaluation.evaluator import evaluate
from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations import MemoryObservationStore
from tests.faults.support import hashed_variant
from tests.graph.conftest import build_graph
from tests.graph.test_routing_node import make_config
from tests.support.redis_server import RedisServer

UNITS = [f"s{i}" for i in range(400)]
NEW_WEIGHTS = (10.0, 90.0)


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with RedisServer(extra_args=("--maxmemory-policy", "allkeys-lru")) as srv:
        yield srv


@dataclass
class Fleet:
    """Workers sharing one Redis: each its own store handle (its own memory of the anchor) and graph."""

    url: str
    stores: list[Any] = field(default_factory=list)
    graphs: list[tuple[Any, Any]] = field(default_factory=list)

    def start(self, weights: tuple[float, float] = (50.0, 50.0), *, reuse: int = 0, new: int = 0) -> None:
        """Graphs with ``weights`` on the first ``reuse`` store handles plus ``new`` fresh ones."""
        stores = self.stores[:reuse] + [open_store(self.url) for _ in range(new)]
        self.stores = stores + self.stores[len(stores) :]
        self.graphs = [build_graph(make_config(weights=weights), s, state_refresh_s=0.0) for s in stores]

    def route(self, units: list[str]) -> dict[str, dict[str, Any]]:
        """Each unit through one worker, round robin."""
        out = {}
        for i, unit in enumerate(units):
            graph, _ = self.graphs[i % len(self.graphs)]
            out[unit] = graph.invoke({"session_id": unit, "seen": []})["routing"]["exp"]
        return out

    def nodes(self) -> list[Any]:
        return [node for _, node in self.graphs]

    def close(self) -> None:
        for store in self.stores:
            store.close()


RANDOMIZED = {"hashed", "sticky", "store_unavailable"}


def silently_flipped(before: dict[str, str], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decisions that put a unit on another variant as if randomized (not ``store_lost``, ``rolled_back``)."""
    return [r for r in after if r["variant"] != before[r["unit_id"]] and r["reason"] in RANDOMIZED]


def evict_everything_old(admin: redis.Redis) -> int:
    """Fill a small ``maxmemory`` with newer ballast: allkeys-lru evicts the older keys. Returns evictions."""
    time.sleep(1.1)  # the LRU clock ticks per second: the ballast must be younger than every key before it
    used = int(admin.info("memory")["used_memory"])
    admin.config_set("maxmemory", used + 256 * 1024)
    pipe = admin.pipeline(transaction=False)
    for i in range(4000):
        pipe.set(f"ballast:{i}", b"x" * 1024)
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()
    admin.config_set("maxmemory", 0)
    return int(admin.info("stats")["evicted_keys"])


def run(
    server: RedisServer,
    fault: Callable[[redis.Redis], None],
    *,
    rollback: bool,
    caplog: pytest.LogCaptureFixture,
) -> tuple[Fleet, dict[str, str], dict[str, dict[str, Any]]]:
    """Route every unit, maybe roll back, inject the fault, change the weights, route every unit again."""
    admin = redis.Redis.from_url(server.url)
    fleet = Fleet(server.url + "?prefix=loss&timeout=0.5")
    fleet.start(new=2)
    before = {u: r["variant"] for u, r in fleet.route(UNITS).items()}
    assert set(before.values()) == {"control", "candidate"}
    if rollback:
        Rollout(fleet.stores[0], "exp", known=True).rollback(actor="oncall", reason="p95 latency doubled")
    fault(admin)
    caplog.clear()
    fleet.start(NEW_WEIGHTS, reuse=2, new=1)  # a legal weight change; a third worker starts after the fault
    with caplog.at_level(logging.ERROR, logger="routing_agent.assignment"):
        after = fleet.route(UNITS)
    admin.close()
    return fleet, before, after


def check_fail_safe(
    fleet: Fleet,
    before: dict[str, str],
    after: dict[str, dict[str, Any]],
    *,
    rollback: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # the fault mattered: with the new weights the hash alone would move many units
    movable = [u for u in UNITS if hashed_variant(u, weights=(0.1, 0.9)) != before[u]]
    assert len(movable) > 50
    assert silently_flipped(before, list(after.values())) == []
    if rollback:
        assert {r["variant"] for r in after.values()} == {"control"}  # the rollback is not undone
    lost = [u for u, r in after.items() if r["reason"] == "store_lost"]
    assert lost and all(after[u]["variant"] == "control" for u in lost)
    # counted and logged once per worker, visible in status for whoever looks later
    for node in fleet.nodes():
        stats = node.stats()
        assert stats["events"]["store_lost"] == 1
        assert stats["decisions"]["exp"]["store_lost"] == sum(
            1
            for i, u in enumerate(UNITS)
            if after[u]["reason"] == "store_lost" and fleet.nodes()[i % 3] is node
        )
    assert sum("LOST DATA" in r.getMessage() for r in caplog.records) == len(fleet.nodes())
    snapshot = experiment_status(open_store(fleet.url), "exp")
    assert snapshot.loss is not None and snapshot.to_json()["store_loss"]["reason"] == snapshot.loss.reason


def check_recover(fleet: Fleet) -> None:
    """Control for everyone lasts until a person acknowledges; then units are randomized again. Meanwhile the
    evaluator refuses every move on these figures (its report names the loss)."""
    evaluation = evaluate(
        make_config().experiments[0], observations=MemoryObservationStore(), assignments=fleet.stores[0]
    )
    assert evaluation.decision.kind.value == "invalid"
    assert "lost data" in evaluation.decision.summary
    again = fleet.route(UNITS[:30])
    assert {r["reason"] for r in again.values()} == {"store_lost"}
    assert fleet.stores[0].acknowledge_loss("exp", actor="oncall", reason="maxmemory-policy noeviction now")
    resumed = fleet.route(UNITS[:30])
    assert "store_lost" not in {r["reason"] for r in resumed.values()}
    assert experiment_status(fleet.stores[0], "exp").loss is None


@pytest.mark.parametrize("rollback", [False, True], ids=["weight-change", "rollback"])
def test_allkeys_lru_eviction(server: RedisServer, rollback: bool, caplog: pytest.LogCaptureFixture) -> None:
    evicted: list[int] = []

    def evict(admin: redis.Redis) -> None:
        evicted.append(evict_everything_old(admin))
        left = sum(1 for _ in admin.scan_iter(match="loss:*:a:u:*", count=1000))
        assert left < len(UNITS) // 2  # most unit keys went (and with them, stickiness)
        if rollback:
            assert not admin.exists("loss:{exp:exp}:state")  # the rollback itself was evicted

    fleet, before, after = run(server, evict, rollback=rollback, caplog=caplog)
    try:
        assert evicted[0] > 1000
        check_fail_safe(fleet, before, after, rollback=rollback, caplog=caplog)
        check_recover(fleet)
    finally:
        fleet.close()


@pytest.mark.parametrize("rollback", [False, True], ids=["weight-change", "rollback"])
def test_kill_9_and_restart_without_persistence(
    server: RedisServer, rollback: bool, caplog: pytest.LogCaptureFixture
) -> None:
    def kill_and_restart(admin: redis.Redis) -> None:
        server.kill()
        server.start()  # same port, empty
        assert admin.dbsize() == 0

    fleet, before, after = run(server, kill_and_restart, rollback=rollback, caplog=caplog)
    try:
        check_fail_safe(fleet, before, after, rollback=rollback, caplog=caplog)
        check_recover(fleet)
    finally:
        fleet.close()


@pytest.mark.parametrize("rollback", [False, True], ids=["weight-change", "rollback"])
def test_flushdb_while_workers_route(
    server: RedisServer, rollback: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """FLUSHDB lands while a worker keeps routing in another thread: no decision after it flips a unit."""
    routed: list[dict[str, Any]] = []
    stop = threading.Event()

    def flush_while_routing(admin: redis.Redis) -> None:
        store = open_store(server.url + "?prefix=loss&timeout=0.5")
        store.read_state("exp")  # this worker knows the anchor, as every running worker does
        graph, _ = build_graph(make_config(), store, state_refresh_s=0.0)

        def keep_routing() -> None:
            while not stop.is_set():
                for unit in UNITS[:100]:
                    routed.append(graph.invoke({"session_id": unit, "seen": []})["routing"]["exp"])

        thread = threading.Thread(target=keep_routing)
        caplog.clear()
        thread.start()
        while len(routed) < 150:
            time.sleep(0.01)
        admin.flushdb()
        count = len(routed)
        while len(routed) < count + 150:
            time.sleep(0.01)
        stop.set()
        thread.join(30)
        store.close()
        assert sum("LOST DATA" in r.getMessage() for r in caplog.records) == 1  # loud, once

    fleet, before, after = run(server, flush_while_routing, rollback=rollback, caplog=caplog)
    try:
        assert silently_flipped(before, routed) == []
        if rollback:
            assert {r["variant"] for r in routed} == {"control"}
        assert any(r["reason"] == "store_lost" for r in routed)
        check_fail_safe(fleet, before, after, rollback=rollback, caplog=caplog)
        check_recover(fleet)
    finally:
        fleet.close()
