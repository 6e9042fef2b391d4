"""Redis killed (SIGKILL) in the middle of a multi-process load run and restarted a few seconds later. Extends
``tests/graph/test_store_outage.py`` (one thread, one graph, no observations) to the production shape: two OS
processes of threads and asyncio tasks on the three reference workflows, telemetry writing observations to the
same Redis (AOF with ``appendfsync always``: what Redis acknowledged is on disk and survives a SIGKILL; with
``everysec`` Redis may acknowledge writes it has postponed while a slow fsync runs, and a kill then loses
them, Redis's documented window of up to 2 s — the likely cause of 172 of 600 missing in one busy run). No
exception reaches a graph, every fallback is counted, no unit ever sees two variants (the units routed during
the outage are written back with the variant they had), and no observation is lost: the writer's retries (~6 s
by default) outlast the restart, so every accepted observation is in the store exactly once (ids make a batch
that Redis applied but could not acknowledge before the kill idempotent). An outage longer than the retries
drops observations, counted: ``test_a_longer_outage_drops_observations_counted``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.load import run_load
from routing_agent.stores.observations import BufferedObservationWriter, Observation, open_observation_store
from tests.load.test_load import urls
from tests.support.redis_server import RedisServer


@pytest.fixture
def durable_redis() -> Iterator[RedisServer]:
    with RedisServer(extra_args=("--appendonly", "yes", "--appendfsync", "always")) as server:
        yield server


def test_redis_killed_and_restarted_under_load(durable_redis: RedisServer) -> None:
    store_url, obs_url = urls(durable_redis.url, "killed")
    # The kill is the fault under test: a 0.5 s sync timeout (not the 50 ms production default) keeps a busy
    # machine's scheduling delays from adding timeouts of their own (a killed server refuses at once anyway).
    store_url += "&timeout=0.5"
    faults = [(2.0, durable_redis.kill), (4.0, durable_redis.start)]
    # 11 s: after the restart every routing node probes again within its longest back-off (5 s)
    report = run_load(
        store_url, obs_url, processes=2, threads=2, tasks=4, duration_s=11.0, advance_per_s=6.0, faults=faults
    )
    print("\n" + "\n".join(report.lines()))
    assert not report.errors  # no exception reached any graph
    assert not report.split and not report.store_mismatch  # no flip, outage units written back
    assert not report.count_mismatch  # every unit counted once, by whichever process created it
    assert report.pending_writeback == 0
    events = report.events
    assert events["outage"] >= 2 and events["recovered"] >= 2  # both processes saw it and came back
    assert events["fallback"] == report.decisions["store_unavailable"] > 0
    assert events["writeback"] > 0 and events.get("writeback_conflict", 0) == 0
    # observations: none lost, none counted twice
    assert report.dropped == 0 and report.written == report.accepted == report.stored
    assert report.calls_observed == report.calls_made


def test_a_longer_outage_with_the_default_spool_loses_nothing(durable_redis: RedisServer) -> None:
    """The spool (on by default) keeps what the store refuses on disk and forwards it after the restart."""
    store = open_observation_store(f"{durable_redis.url}?prefix=spooled&timeout=0.5")
    writer = BufferedObservationWriter(store, flush_interval_s=0.01, max_retries=2, retry_backoff_s=0.05)
    writer.add_many([Observation("exp", "control", f"u{i}", "calls", 1.0, id=f"a{i}") for i in range(300)])
    assert writer.flush(10)
    durable_redis.kill()
    writer.add_many([Observation("exp", "control", f"u{i}", "calls", 1.0, id=f"b{i}") for i in range(200)])
    assert not writer.flush(1)  # refused: kept on disk, not reported as written
    assert writer.stats()["spooled"] == 200 and writer.stats()["dropped"] == 0
    durable_redis.start()
    writer.add_many([Observation("exp", "control", f"u{i}", "calls", 1.0, id=f"c{i}") for i in range(100)])
    writer.close(30)
    stats = writer.stats()
    assert (stats["written"], stats["dropped"], stats["spooled"]) == (600, 0, 0)
    assert sum(a.n_obs for a in store.unit_aggregates("exp", "calls").values()) == 600
    store.close()


def test_a_longer_outage_without_the_spool_drops_observations_counted(durable_redis: RedisServer) -> None:
    """With the spool off and retries shorter than the outage, observations are dropped: counted, never
    silently."""
    store = open_observation_store(f"{durable_redis.url}?prefix=long&timeout=0.5")
    writer = BufferedObservationWriter(
        store, flush_interval_s=0.01, max_retries=2, retry_backoff_s=0.05, spool_dir=False
    )
    writer.add_many([Observation("exp", "control", f"u{i}", "calls", 1.0, id=f"a{i}") for i in range(300)])
    assert writer.flush(10)
    durable_redis.kill()
    writer.add_many([Observation("exp", "control", f"u{i}", "calls", 1.0, id=f"b{i}") for i in range(200)])
    assert writer.flush(10)  # gave up: dropped
    durable_redis.start()
    writer.add_many([Observation("exp", "control", f"u{i}", "calls", 1.0, id=f"c{i}") for i in range(100)])
    writer.close(10)
    stats = writer.stats()
    assert stats == {"written": 400, "dropped": 200, "invalid": 0, "retries": stats["retries"], "buffered": 0}
    stored = sum(a.n_obs for a in store.unit_aggregates("exp", "calls").values())
    assert stored == 400  # the 300 written before the kill survived it (AOF), the 100 after landed
    store.close()
