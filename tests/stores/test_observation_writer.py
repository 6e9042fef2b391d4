"""The buffered writer: non-blocking for the graph, retries a failing store, counts what it drops."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import pytest

from routing_agent.errors import StoreUnavailable
from routing_agent.stores.observations import BufferedObservationWriter, MemoryObservationStore, Observation
from routing_agent.stores.observations.redis import RedisObservationStore
from tests.support.redis_server import RedisServer


def obs(i: int) -> Observation:
    return Observation("e", "control", f"u{i % 7}", "m", 1.0, id=f"o{i}")


class FlakyStore(MemoryObservationStore):
    """A real memory store that fails its first ``failures`` writes, or blocks while ``gate`` is closed."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__()
        self.failures = failures
        self.gate = threading.Event()
        self.gate.set()

    def add(self, observations: Sequence[Observation]) -> int:
        self.gate.wait(10)
        if self.failures > 0:
            self.failures -= 1
            raise StoreUnavailable("down")
        return super().add(observations)


def test_flush_writes_everything_in_batches() -> None:
    store = MemoryObservationStore()
    writer = BufferedObservationWriter(store, batch_size=10, flush_interval_s=5)
    for i in range(95):
        writer.add(obs(i))
    assert writer.flush(5)
    assert len(list(store.observations("e"))) == 95
    assert writer.stats() == {"written": 95, "dropped": 0, "invalid": 0, "retries": 0, "buffered": 0}
    writer.close()


def test_add_never_blocks_on_a_slow_store() -> None:
    store = FlakyStore()
    store.gate.clear()  # the store hangs
    writer = BufferedObservationWriter(store, batch_size=5, flush_interval_s=0.01)
    adder = threading.Thread(target=lambda: [writer.add(obs(i)) for i in range(200)])
    adder.start()
    adder.join(30)  # a blocking add would wait on the hung store forever: 30 s is slack, not a speed bound
    assert not adder.is_alive()
    store.gate.set()
    assert writer.flush(5)
    assert writer.stats()["written"] == 200
    writer.close()


def test_retries_then_recovers_without_loss() -> None:
    store = FlakyStore(failures=2)
    writer = BufferedObservationWriter(store, flush_interval_s=0.01, retry_backoff_s=0.001, max_retries=3)
    writer.add_many([obs(i) for i in range(10)])
    assert writer.flush(5)
    assert writer.stats()["retries"] == 2 and writer.stats()["dropped"] == 0
    assert len(list(store.observations("e"))) == 10
    writer.close()


def test_a_dead_store_drops_counted_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore(failures=10**6)
    writer = BufferedObservationWriter(
        store, batch_size=4, flush_interval_s=0.01, retry_backoff_s=0.001, max_retries=1
    )
    with caplog.at_level(logging.WARNING, logger="routing_agent.observations"):
        for i in range(12):
            writer.add(obs(i))  # never raises
        assert writer.flush(5)
    assert writer.stats()["dropped"] == 12
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 1
    writer.close()


def test_a_full_buffer_drops_the_overflow_counted() -> None:
    store = FlakyStore()
    store.gate.clear()
    writer = BufferedObservationWriter(store, max_buffer=50, batch_size=1000, flush_interval_s=0.01)
    writer.add_many([obs(i) for i in range(80)])
    assert writer.stats()["dropped"] == 30
    store.gate.set()
    assert writer.flush(5)
    assert writer.stats()["written"] == 50
    writer.close()


def test_redis_outage_then_restart(redis_prefix: str) -> None:
    """A real Redis is killed mid-run: writes are retried; after restart new observations land. (Without the
    spool: with it nothing is dropped, see tests/faults/test_redis_kill_restart.py.)"""
    with RedisServer() as server:
        store = RedisObservationStore.from_url(server.url, prefix=redis_prefix, timeout_s=0.2)
        writer = BufferedObservationWriter(
            store, flush_interval_s=0.01, retry_backoff_s=0.01, max_retries=1, spool_dir=False
        )
        writer.add_many([obs(i) for i in range(5)])
        assert writer.flush(5)
        server.kill()
        writer.add_many([obs(i) for i in range(5, 10)])  # must not raise
        assert writer.flush(10)
        assert writer.stats()["dropped"] == 5
        server.start()
        writer.add_many([obs(i) for i in range(10, 15)])
        assert writer.flush(10)
        assert writer.stats()["written"] == 10
        writer.close()
        store.close()
