"""Redis refusing writes while it still answers reads: full (``maxmemory`` reached with ``noeviction``) or
read-only (turned into a replica of a master that does not exist). New units are routed by the hash and
queued for write-back, sticky units keep their variant, the operator sees why in one warning, observations
are retried until Redis takes writes again (none lost), and nothing flips once it does."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from benchmarks.load_worker import CountingSink
from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations import BufferedObservationWriter, open_observation_store
from routing_agent.telemetry import RoutingTelemetry
from tests.faults.support import hashed_variant
from tests.graph.conftest import build_graph
from tests.graph.test_routing_node import make_config
from tests.support.redis_server import RedisServer, free_port


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with RedisServer() as srv:
        yield srv


def make_full(client: redis.Redis) -> Callable[[], None]:
    client.config_set("maxmemory-policy", "noeviction")
    used = int(client.info("memory")["used_memory"])
    client.set("ballast", b"x" * 2_000_000)
    client.config_set("maxmemory", used + 1_000_000)  # the ballast alone is 1 MB over the limit
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        client.set("probe", "1")

    def undo() -> None:
        client.delete("ballast")
        client.config_set("maxmemory", 0)

    return undo


def make_read_only(client: redis.Redis) -> Callable[[], None]:
    client.execute_command("REPLICAOF", "127.0.0.1", free_port())
    with pytest.raises(redis.exceptions.ReadOnlyError):
        client.set("probe", "1")
    return lambda: client.execute_command("REPLICAOF", "NO", "ONE")


@pytest.mark.parametrize(
    ("fault", "words"), [(make_full, "OutOfMemoryError"), (make_read_only, "read only replica")]
)
def test_writes_refused_reads_answered(
    fault: Callable[[redis.Redis], Callable[[], None]],
    words: str,
    server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = open_store(f"{server.url}?prefix=ro&timeout=2")
    obs = open_observation_store(f"{server.url}?prefix=ro")
    sink = CountingSink(BufferedObservationWriter(obs, flush_interval_s=0.02))
    graph, node = build_graph(make_config(), store, state_refresh_s=3600)
    config: dict[str, Any] = {"callbacks": [RoutingTelemetry(observations=sink)]}

    def run(sid: str) -> dict[str, Any]:
        out = graph.invoke({"session_id": sid, "seen": []}, config)
        assert len({s["model_id"] for s in out["seen"]}) == 1
        return dict(out["routing"]["exp"])

    before = {f"old{i}": run(f"old{i}")["variant"] for i in range(20)}
    assert sink.writer.flush(5)
    admin = redis.Redis(port=server.port)
    with caplog.at_level(logging.WARNING, logger="routing_agent"):
        undo = fault(admin)
        during = {f"new{i}": run(f"new{i}") for i in range(30)}
        revisits = {sid: run(sid) for sid in before}
        time.sleep(0.6)  # past the first back-off: one more probe, refused again
        during["late"] = run("late")
        undo()
    for sid, record in during.items():
        assert (record["variant"], record["reason"]) == (hashed_variant(sid), "store_unavailable")
    for sid, record in revisits.items():
        # units the store confirmed before the fault are answered from the worker's memory: still sticky
        assert (record["variant"], record["reason"]) == (before[sid], "sticky")
    warnings = [r.getMessage() for r in caplog.records if "assignment store unavailable" in r.getMessage()]
    assert len(warnings) == 1 and words in warnings[0]  # one warning, saying why
    stats = node.stats()
    # new units routed by hash while down and queued for write-back; the revisits needed no store
    assert stats["events"]["outage"] == 1 and stats["pending_writeback"] == len(during)

    time.sleep(node.assigner.guard.outage.max_backoff_s + 0.1)
    assert run("after")["reason"] == "hashed"  # the probe: Redis takes writes again
    assert node.assigner.guard.wait_flushed(10)
    assert node.stats()["events"]["writeback"] == len(during)
    assert node.stats()["events"].get("writeback_conflict", 0) == 0
    for sid, record in during.items():
        assert store.get("exp", sid) == record["variant"]
        assert run(sid)["reason"] == "sticky"
    sink.writer.close(20)
    stats = sink.writer.stats()
    assert stats["dropped"] == 0 and stats["written"] == sink.accepted  # retried past the refusal
    assert sum(a.n_obs for a in obs.unit_aggregates("exp", "calls").values()) == 3 * (20 + 20 + 31 + 1 + 31)
    for closable in (store, obs, admin):
        closable.close()
