"""Routing cost follows the experiments that apply: ``RoutingNode(agents=…)`` decides only experiments
scoped to the graph's agents, and a unit's experiments cost one Redis round trip however many apply (counted
on a real server started by the test, never timed)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import redis

from routing_agent.config.spec import ExperimentsConfig, ExperimentStatus
from routing_agent.stores.assignments import open_store
from tests.graph.conftest import AGENTS, build_graph
from tests.support.redis_server import RedisServer


def experiment(
    exp_id: str, scope: tuple[str, ...], weights: tuple[float, float] = (50, 50)
) -> dict[str, Any]:
    return {
        "id": exp_id,
        "scope": list(scope),
        "variants": [
            {"name": "control", "model": f"echo:{exp_id}-control", "control": True, "weight": weights[0]},
            {"name": "candidate", "model": f"echo:{exp_id}-candidate", "weight": weights[1]},
        ],
    }


def config(*experiments: dict[str, Any]) -> ExperimentsConfig:
    return ExperimentsConfig.model_validate(
        {"default_model": {"model": "echo:default-model"}, "experiments": list(experiments)}
    )


MIXED = config(
    *(experiment(f"ghost-{i}", ("ghost", f"phantom-{i}")) for i in range(30)),  # agents this graph lacks
    experiment("drafting", ("drafter",)),
    experiment("everywhere", ()),
    experiment("review", ("reviewer", "ghost")),
)


def test_experiments_scoped_to_agents_the_graph_lacks_are_not_decided_nor_written() -> None:
    store = open_store("memory://")
    graph, node = build_graph(MIXED, store, agents=AGENTS)
    for i in range(20):
        out = graph.invoke({"session_id": f"s{i}", "seen": []})
        assert set(out["routing"]) == {"drafting", "everywhere", "review"}
        seen = {s["agent"]: s for s in out["seen"]}
        # the applicable experiments still route their agents
        assert seen["drafter"]["variant"] in {"control", "candidate"}
        assert seen["reviewer"]["variant"] in {"control", "candidate"}
    decisions = node.stats()["decisions"]
    assert set(decisions) == {"drafting", "everywhere", "review"}
    assert all(store.counts(f"ghost-{i}") == {} for i in range(30))  # nothing stored either
    assert store.get("ghost-0", "s0") is None


def test_without_agents_every_experiment_is_decided_as_before() -> None:
    graph, node = build_graph(MIXED, open_store("memory://"))
    out = graph.invoke({"session_id": "s1", "seen": []})
    assert len(out["routing"]) == 33
    assert len(node.stats()["decisions"]) == 33


def test_an_agent_left_out_of_agents_still_gets_its_experiment_and_is_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = open_store("memory://")
    graph, _ = build_graph(MIXED, store, agents=("classifier", "reviewer"))
    with caplog.at_level(logging.WARNING, logger="routing_agent.routing"):
        for i in range(30):
            out = graph.invoke({"session_id": f"u{i}", "seen": []})
            assert "drafting" not in out["routing"]  # not decided by the node ...
            drafter = next(s for s in out["seen"] if s["agent"] == "drafter")
            # ... but the drafter's model call decided it: the stored, sticky variant
            assert drafter["variant"] == store.get("drafting", f"u{i}")
            assert drafter["answer"] == f"drafting-{drafter['variant']}"
    warned = [r for r in caplog.records if "not in RoutingNode(agents=" in r.getMessage()]
    assert len(warned) == 1 and "'drafter'" in warned[0].getMessage()


def test_reload_recomputes_which_experiments_apply() -> None:
    graph, node = build_graph(config(experiment("a", ("ghost",))), open_store("memory://"), agents=AGENTS)
    assert not graph.invoke({"session_id": "s", "seen": []}).get("routing")
    assert node.stats()["decisions"] == {}
    assert node.reload(config(experiment("a", ("ghost",)), experiment("b", ("drafter",)))).ok
    assert set(graph.invoke({"session_id": "s2", "seen": []})["routing"]) == {"b"}


# -- Redis: one round trip for all of a unit's experiments ---------------------------------------------

MANY = config(*(experiment(f"e{i}", ("drafter",) if i % 2 else ()) for i in range(12)))


def _stats(admin: redis.Redis) -> tuple[int, int]:
    """(read events the server processed, EVALSHA commands run) so far: one INFO call, one read event."""
    info = admin.info("all")
    return int(info["total_reads_processed"]), int(info.get("cmdstat_evalsha", {}).get("calls", 0))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_unit_in_many_experiments_costs_one_round_trip_on_redis(mode: str) -> None:
    with RedisServer() as server:
        admin = redis.Redis.from_url(server.url)
        store = open_store(f"{server.url}?prefix=scale&timeout=5&async_timeout=5")
        graph, node = build_graph(MANY, store, agents=AGENTS, state_refresh_s=3600.0)

        async def arun() -> tuple[tuple[int, int], dict[str, Any], tuple[int, int]]:
            await graph.ainvoke({"session_id": "warm-up", "seen": []})
            before = _stats(admin)
            out = await graph.ainvoke({"session_id": "fresh-unit", "seen": []})
            return before, out, _stats(admin)

        if mode == "async":  # one event loop: its async client connects during the warm-up
            before, out, after = asyncio.run(arun())
        else:
            graph.invoke({"session_id": "warm-up", "seen": []})  # connects, loads scripts, caches states
            before = _stats(admin)
            out = graph.invoke({"session_id": "fresh-unit", "seen": []})
            after = _stats(admin)
        assert len(out["routing"]) == 12
        assert {r["reason"] for r in out["routing"].values()} == {"hashed"}
        assert after[1] - before[1] == 12  # one get-or-set script per experiment ...
        # ... all in one network read (the second stats call is the other one); sequential calls make 13
        assert after[0] - before[0] <= 2, after[0] - before[0]
        for exp_id, record in out["routing"].items():  # and every one is really stored and sticky
            assert store.get(exp_id, "fresh-unit") == record["variant"]
        assert node.stats()["events"].get("fallback", 0) == 0
        admin.close()
        store.close()


def test_stale_states_of_many_experiments_are_read_in_one_round_trip() -> None:
    with RedisServer() as server:
        admin = redis.Redis.from_url(server.url)
        store = open_store(f"{server.url}?prefix=states&timeout=5")
        graph, node = build_graph(MANY, store, agents=AGENTS, state_refresh_s=3600.0)
        graph.invoke({"session_id": "warm-up", "seen": []})
        store.set_state("e3", ExperimentStatus.ROLLED_BACK, actor="t")
        node.assigner.guard.invalidate_state()  # every state is stale now
        before = _stats(admin)
        out = graph.invoke({"session_id": "another", "seen": []})
        after = _stats(admin)
        assert out["routing"]["e3"]["reason"] == "rolled_back"
        assert out["routing"]["e3"]["variant"] == "control"
        assert after[1] - before[1] == 12 + 11  # 12 state reads, 11 get-or-sets (e3 is rolled back)
        assert after[0] - before[0] <= 3, after[0] - before[0]  # two pipelines (+ the stats call)
        admin.close()
        store.close()


def test_a_batch_keeps_the_other_experiments_when_one_lost_its_data() -> None:
    with RedisServer() as server:
        admin = redis.Redis.from_url(server.url)
        store = open_store(f"{server.url}?prefix=lossy&timeout=5")
        graph, node = build_graph(MANY, store, agents=AGENTS, state_refresh_s=3600.0)
        graph.invoke({"session_id": "warm-up", "seen": []})  # every experiment anchored, epochs known
        admin.delete(*admin.keys("lossy:{exp:e5}:*"))  # e5's data is gone (as FLUSHDB/eviction would)
        out = graph.invoke({"session_id": "after-loss", "seen": []})
        assert out["routing"]["e5"]["reason"] == "store_lost"
        assert out["routing"]["e5"]["variant"] == "control"
        others = {k: r["reason"] for k, r in out["routing"].items() if k != "e5"}
        assert len(others) == 11 and set(others.values()) == {"hashed"}
        assert node.stats()["events"]["store_lost"] == 1
        assert node.assigner.guard.lost("e5") is not None and node.assigner.guard.lost("e4") is None
        admin.close()
        store.close()


def test_a_batch_against_a_dead_redis_falls_back_and_writes_back_every_experiment() -> None:
    server = RedisServer(extra_args=("--appendonly", "yes")).start()
    try:
        store = open_store(f"{server.url}?prefix=dead&timeout=0.5")
        graph, node = build_graph(MANY, store, agents=AGENTS, state_refresh_s=3600.0)
        graph.invoke({"session_id": "warm-up", "seen": []})
        server.kill()
        out = graph.invoke({"session_id": "in-outage", "seen": []})  # never raises
        assert {r["reason"] for r in out["routing"].values()} == {"store_unavailable"}
        assert node.stats()["pending_writeback"] == 12
        server.start()
        assert node.assigner.guard.flush() == 12
        for exp_id, record in out["routing"].items():  # written back with the variant the unit ran
            assert store.get(exp_id, "in-outage") == record["variant"]
        store.close()
    finally:
        server.stop()
