"""Units the store already answered for are answered from the worker's memory: no round trip for a returning
session, and no flip during an outage even after the weights changed."""

from __future__ import annotations

import redis

from routing_agent.assignment.recent import RecentAssignments
from routing_agent.stores.assignments import open_store
from tests.graph.conftest import build_graph
from tests.graph.test_routing_node import make_config
from tests.support.redis_server import RedisServer


def _evalsha_calls(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


def test_returning_sessions_cost_no_store_round_trip() -> None:
    with RedisServer() as server:
        admin = redis.Redis(port=server.port)
        store = open_store(server.url, prefix="recent", timeout_s=2.0)
        graph, _ = build_graph(make_config(), store, state_refresh_s=3600)
        graph.invoke({"session_id": "warm-up", "seen": []})  # loads the script, reads the state once
        before = _evalsha_calls(admin)
        first = {
            f"s{i}": graph.invoke({"session_id": f"s{i}", "seen": []})["routing"]["exp"] for i in range(40)
        }
        after_first = _evalsha_calls(admin)
        again = {sid: graph.invoke({"session_id": sid, "seen": []})["routing"]["exp"] for sid in first}
        assert after_first - before == 40  # one get-or-set round trip per new unit
        assert _evalsha_calls(admin) == after_first  # the revisits were answered from memory
        assert all(r["reason"] == "hashed" for r in first.values())
        assert all(
            (again[s]["variant"], again[s]["reason"]) == (first[s]["variant"], "sticky") for s in first
        )
        # a fresh worker (empty memory) gets the stored variant from the store, even under new weights
        other = open_store(server.url, prefix="recent", timeout_s=2.0)
        graph2, _ = build_graph(make_config(weights=(1, 99)), other, state_refresh_s=3600)
        for sid, record in first.items():
            assert (
                graph2.invoke({"session_id": sid, "seen": []})["routing"]["exp"]["variant"]
                == record["variant"]
            )
        assert _evalsha_calls(admin) - after_first >= 40  # its own round trips (plus its state read)
        for closable in (store, other, admin):
            closable.close()


def test_recently_seen_units_do_not_flip_in_an_outage_after_a_weight_change() -> None:
    with RedisServer() as server:
        store = open_store(server.url, prefix="recent", timeout_s=0.5)
        graph, node = build_graph(make_config(weights=(50, 50)), store)
        first = {
            f"u{i}": graph.invoke({"session_id": f"u{i}", "seen": []})["routing"]["exp"] for i in range(60)
        }
        # the worker reloads new weights (its memory stays), then loses the store
        assert node.reload(make_config(weights=(1, 99))).ok
        server.kill()
        for sid, record in first.items():
            again = graph.invoke({"session_id": sid, "seen": []})["routing"]["exp"]
            assert (again["variant"], again["reason"]) == (record["variant"], "sticky")
        assert node.stats()["events"].get("fallback", 0) == 0
        store.close()


def test_memory_is_bounded_and_ages_out() -> None:
    now = [0.0]
    recent = RecentAssignments(max_entries=3, max_age_s=10, clock=lambda: now[0])
    for i in range(5):
        recent.put("e", f"u{i}", "a")
    assert len(recent) == 3 and recent.get("e", "u0") is None and recent.get("e", "u4") == "a"
    recent.put("e", "ttl", "b", ttl_s=2)
    now[0] = 3
    assert recent.get("e", "ttl") is None  # never past the assignment's own TTL
    assert recent.get("e", "u4") == "a"
    now[0] = 20
    assert recent.get("e", "u4") is None
