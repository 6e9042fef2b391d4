"""Scale-out: the unchanged Redis stores against a real 3-node Redis Cluster. The load run of
``tests/load`` passes on it (assignments and observations in the cluster), every key of one experiment
lives in one slot on one node, and the experiments spread over the three primaries."""

from __future__ import annotations

import os
import uuid

import pytest
import redis
from redis.cluster import key_slot

from benchmarks.load import run_load
from routing_agent.stores.observations import Observation, open_observation_store
from tests.load.test_load import assert_clean
from tests.support.redis_cluster import RedisCluster3


def keys_by_node(cluster: RedisCluster3, prefix: str) -> dict[int, list[bytes]]:
    out: dict[int, list[bytes]] = {}
    for port in cluster.ports:
        node = redis.Redis(port=port)
        try:
            out[port] = list(node.scan_iter(match=f"{prefix}*", count=1000))
        finally:
            node.close()
    return out


def assert_one_slot_per_experiment(cluster: RedisCluster3, prefix: str) -> set[int]:
    """Every experiment's keys (assignment and observation) share one slot; returns the nodes used."""
    slots: dict[bytes, set[int]] = {}
    nodes: dict[bytes, set[int]] = {}
    for port, keys in keys_by_node(cluster, prefix).items():
        for key in keys:
            tag = key[key.index(b"{") : key.index(b"}") + 1]
            slots.setdefault(tag, set()).add(key_slot(key))
            nodes.setdefault(tag, set()).add(port)
    assert slots, "nothing was written"
    assert all(len(s) == 1 for s in slots.values()), slots
    assert all(len(n) == 1 for n in nodes.values()), nodes
    return set().union(*nodes.values())


def test_load_on_a_redis_cluster(cluster: RedisCluster3) -> None:
    prefix = f"cl-{uuid.uuid4().hex[:8]}"
    url = f"{cluster.url}?prefix={prefix}&cluster=true"
    report = run_load(url, url, processes=2, threads=2, tasks=4, window=8, sessions_per_driver=10)
    assert_clean(report)
    assert report.sessions == 2 * (2 + 4) * 10  # a fixed amount of work, whatever the machine's speed
    keys = keys_by_node(cluster, prefix)
    assert any(b":o:" in k for ks in keys.values() for k in ks)  # observations live in the cluster too
    assert any(b":a:u:" in k for ks in keys.values() for k in ks)
    assert_one_slot_per_experiment(cluster, prefix)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("RA_LONG_TESTS") != "1", reason="2 min: RA_LONG_TESTS=1 pytest -m slow")
def test_long_load_on_a_redis_cluster(cluster: RedisCluster3) -> None:
    prefix = f"cl-{uuid.uuid4().hex[:8]}"
    url = f"{cluster.url}?prefix={prefix}&cluster=true"
    report = run_load(url, url, processes=2, threads=4, tasks=8, duration_s=120.0, advance_per_s=8.0)
    assert_clean(report)


def test_observations_of_many_experiments_spread_over_the_nodes(cluster: RedisCluster3) -> None:
    prefix = f"spread-{uuid.uuid4().hex[:8]}"
    store = open_observation_store(f"{cluster.url}?prefix={prefix}&cluster=true")
    experiments = [f"exp-{i}" for i in range(24)] + ["a:b", "{x}", "Ünï", "}{"]
    try:
        for exp in experiments:
            rows = [
                Observation(
                    exp, v, f"u{i}", m, float(i), agent="a", segments={"tier": "t"}, id=f"{exp}{v}{i}{m}"
                )
                for v in ("control", "candidate")
                for i in range(5)
                for m in ("calls", "latency_s")
            ]
            assert store.add(rows) == 20
            agg = store.unit_aggregates(exp, "latency_s", denominator="calls")
            assert {v: a.n_units for v, a in agg.items()} == {"control": 5, "candidate": 5}
            assert len(list(store.unit_values(exp, "calls"))) == 10
            assert store.tail_aggregates(exp, "latency_s", {"control": 2.0})["control"].n_units == 5
    finally:
        store.close()
    assert len(assert_one_slot_per_experiment(cluster, prefix)) == 3  # spread over all three primaries


def test_an_unreachable_cluster_fails_writes_counted_not_the_constructor() -> None:
    from routing_agent.errors import StoreUnavailable
    from tests.support.redis_server import free_port

    store = open_observation_store(f"redis://127.0.0.1:{free_port()}/0?cluster=true&timeout=0.2")
    with pytest.raises(StoreUnavailable):
        store.add([Observation("e", "c", "u", "m", 1.0)])
    store.close()
