"""A real Redis server (AOF on, as the README requires) killed mid-run: the graph never sees an exception,
fallbacks are counted, and the units assigned during the outage are written back without a flip when the
server returns. A restart that loses the data is a store loss: ``tests/faults/test_redis_store_loss.py``."""

from __future__ import annotations

import time

from routing_agent.assignment.hashing import bucket_ranges, choose_variation, hash_v2
from routing_agent.stores.assignments import open_store
from tests.faults.support import CountingStore
from tests.graph.conftest import build_graph
from tests.graph.test_routing_node import make_config
from tests.support.redis_server import RedisServer


def hashed_variant(unit_id: str) -> str:
    return ["control", "candidate"][choose_variation(hash_v2("exp", unit_id), bucket_ranges([0.5, 0.5]))]


def test_killing_redis_mid_run_raises_nothing_and_writes_back_without_flip() -> None:
    server = RedisServer(extra_args=("--appendonly", "yes", "--appendfsync", "everysec")).start()
    try:
        # a killed server refuses at once
        store = CountingStore(open_store(server.url, prefix="outage", timeout_s=0.5))
        graph, node = build_graph(make_config(), store)
        before = {}
        for i in range(50):
            out = graph.invoke({"session_id": f"s{i}", "seen": []})
            before[f"s{i}"] = out["routing"]["exp"]["variant"]
        assert node.stats()["events"].get("outage", 0) == 0

        server.kill()
        during = {}
        calls_before = store.calls
        for i in range(50, 150):
            out = graph.invoke({"session_id": f"s{i}", "seen": []})  # must not raise
            record = out["routing"]["exp"]
            assert record["reason"] == "store_unavailable"
            assert record["variant"] == hashed_variant(f"s{i}")
            assert len({s["variant"] for s in out["seen"]}) == 1
            during[f"s{i}"] = record["variant"]
        calls_during = store.calls - calls_before
        stats = node.stats()
        assert stats["events"]["outage"] == 1
        assert stats["events"]["fallback"] == 100
        assert stats["decisions"]["exp"]["store_unavailable"] == 100
        assert stats["pending_writeback"] == 100
        assert stats["store_available"] is False
        # back-off: a dead store is not asked (and its timeout not paid) on every request, only probed
        # when the back-off expires (at most a few times however slowly the 100 sessions run)
        assert calls_during <= 10, calls_during

        server.start()  # same port, data back from the AOF: the outage units must be written back
        time.sleep(node.assigner.guard.outage.max_backoff_s + 0.1)  # let the back-off expire
        probe = graph.invoke({"session_id": "after", "seen": []})["routing"]["exp"]
        assert probe["reason"] == "hashed"
        assert node.assigner.guard.wait_flushed(10)
        stats = node.stats()
        assert stats["events"]["recovered"] == 1
        assert stats["events"]["writeback"] == 100
        assert stats["events"].get("writeback_conflict", 0) == 0
        fresh = open_store(server.url, prefix="outage")
        for unit, variant in during.items():
            assert fresh.get("exp", unit) == variant
        # the units seen during the outage are sticky now, on the same variant they had
        for unit, variant in during.items():
            record = graph.invoke({"session_id": unit, "seen": []})["routing"]["exp"]
            assert (record["variant"], record["reason"]) == (variant, "sticky")
        fresh.close()
        store.close()
    finally:
        server.stop()
