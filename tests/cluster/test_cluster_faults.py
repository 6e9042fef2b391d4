"""A stalled Redis Cluster node (``CLIENT PAUSE`` past the client timeout: 50 ms sync, 250 ms asyncio) costs
a routing decision at most two timeouts — redis-py's cluster client would otherwise retry ten times with
back-off (ten timeouts and more) — and the units routed meanwhile are written back without a flip when the
node answers again. The bound is two timeouts plus 150 ms of slack for a loaded CI machine; the retry storm
it guards against is five times that."""

from __future__ import annotations

import asyncio
import time
import uuid

import redis

from routing_agent.assignment.guard import OutagePolicy
from routing_agent.stores._redis import DEFAULT_ASYNC_TIMEOUT_S, DEFAULT_TIMEOUT_S
from routing_agent.stores.assignments import open_store
from tests.faults.support import hashed_variant
from tests.graph.conftest import build_graph
from tests.graph.test_routing_node import make_config
from tests.support.redis_cluster import RedisCluster3


def owner_of(cluster: RedisCluster3, prefix: str) -> int:
    for port in cluster.ports:
        node = redis.Redis(port=port)
        try:
            if node.keys(f"{prefix}*"):
                return port
        finally:
            node.close()
    raise AssertionError("the experiment's keys are on no node")


PAUSE_MS = 6000
"""How long a node is paused: what a decision that waited for it would take."""


def pause(port: int, ms: int) -> None:
    client = redis.Redis(port=port)
    try:
        client.execute_command("CLIENT", "PAUSE", ms, "ALL")
    finally:
        client.close()


def test_a_paused_cluster_node_costs_at_most_two_timeouts_sync_and_async(cluster: RedisCluster3) -> None:
    prefix = f"pause-{uuid.uuid4().hex[:8]}"
    store = open_store(f"{cluster.url}?cluster=true&prefix={prefix}")  # the production timeouts
    # A back-off shorter than the pause between rounds: each round's first call probes the node at once.
    outage = OutagePolicy(backoff_s=0.1, max_backoff_s=0.1)
    graph, node = build_graph(make_config(), store, state_refresh_s=3600, outage=outage)
    graph.invoke({"session_id": "warm", "seen": []})
    port = owner_of(cluster, prefix)

    def timed(sid: str, use_async: bool) -> tuple[float, dict]:
        start = time.perf_counter()
        state = {"session_id": sid, "seen": []}
        out = asyncio.run(graph.ainvoke(state)) if use_async else graph.invoke(state)
        return time.perf_counter() - start, out

    during: dict[str, str] = {}
    for round_, use_async in enumerate((False, True)):
        pause(port, PAUSE_MS)  # CLIENT PAUSE answers at once; the node then holds every other client
        elapsed, out = timed(f"p{round_}", use_async)
        record = out["routing"]["exp"]
        assert record["reason"] == "store_unavailable"
        assert record["variant"] == hashed_variant(f"p{round_}")
        assert len({s["model_id"] for s in out["seen"]}) == 1
        # two timeouts, with a busy machine's slack, and still far from the pause a wait would have cost
        bound = 2 * (DEFAULT_ASYNC_TIMEOUT_S if use_async else DEFAULT_TIMEOUT_S) + 2.5
        assert bound < PAUSE_MS / 1000
        kind = "async" if use_async else "sync"
        assert elapsed < bound, f"{kind} routing took {elapsed:.3f} s (bound {bound} s)"
        during[f"p{round_}"] = record["variant"]
        time.sleep(PAUSE_MS / 1000 + 0.1)  # the pause ends
    time.sleep(node.assigner.guard.outage.max_backoff_s + 0.1)
    assert graph.invoke({"session_id": "after", "seen": []})["routing"]["exp"]["reason"] == "hashed"
    node.assigner.guard.drain(30)  # retried through a busy machine's late timeouts
    assert node.assigner.guard.pending == 0
    # the two paused-round units at least (a busy machine may time out another call, written back too)
    assert node.stats()["events"]["writeback"] >= 2
    for sid, variant in during.items():
        assert store.get("exp", sid) == variant
    store.close()
