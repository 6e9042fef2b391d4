"""SQLite-only behaviour: WAL, locks, broken files, expiry purge, reopening."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from routing_agent.config.spec import ExperimentStatus
from routing_agent.errors import StoreUnavailable
from routing_agent.stores.assignments import SQLiteStore


def test_wal_mode_and_folder_creation(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "assignments.db"
    store = SQLiteStore(path)
    try:
        store.get_or_set("exp", "u", "a")
        raw = sqlite3.connect(path)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("SELECT count(*) FROM ra_assignments").fetchone()[0] == 1
        raw.close()
    finally:
        store.close()


def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    first = SQLiteStore(path)
    first.get_or_set("exp", "u", "a")
    first.set_state("exp", ExperimentStatus.PAUSED, actor="x")
    first.close()
    second = SQLiteStore(path)
    try:
        assert second.get("exp", "u") == "a"
        assert second.counts("exp") == {"a": 1}
        state = second.get_state("exp")
        assert state is not None and state.status is ExperimentStatus.PAUSED
    finally:
        second.close()


def test_a_held_write_lock_makes_writes_unavailable_but_sticky_reads_work(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    store = SQLiteStore(path, busy_timeout_ms=100)
    store.get_or_set("exp", "known", "a")
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        locker.execute("INSERT INTO ra_counts VALUES ('other', 'x', 1)")
        started = time.perf_counter()
        with pytest.raises(StoreUnavailable, match="locked"):
            store.get_or_set("exp", "new", "a")
        waited = time.perf_counter() - started
        assert waited >= 0.09  # waited (SQLite sleeps the whole busy timeout), then gave up
        with pytest.raises(StoreUnavailable):
            store.set_state("exp", ExperimentStatus.PAUSED, actor="x")
        assert store.get_or_set("exp", "known", "b") == ("a", False)  # WAL: readers are not blocked
        assert store.get("exp", "known") == "a"
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert store.get_or_set("exp", "new", "a") == ("a", True)  # the lock is gone: writes work again
    store.close()


def test_not_a_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not an SQLite file" * 100)
    with pytest.raises(StoreUnavailable, match=r"junk\.db"):
        SQLiteStore(path)


def test_a_folder_in_place_of_the_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreUnavailable):
        SQLiteStore(tmp_path / "dir.db")


def test_in_memory_databases_are_refused_by_every_sqlite_store(tmp_path: Path) -> None:
    """One connection per thread: ``:memory:`` would give each thread its own database, so every family's
    SQLite store refuses it and points to ``memory://``."""
    from routing_agent.stores.observations.sqlite import SQLiteObservationStore
    from routing_agent.stores.reviews.sqlite import SQLiteReviewStore

    for store_type in (SQLiteStore, SQLiteObservationStore, SQLiteReviewStore):
        for name in (":memory:", "file::memory:?cache=shared"):
            with pytest.raises(ValueError, match="memory://"):
                store_type(name)


def test_purge_expired_removes_only_expired_rows(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "a.db")
    try:
        store.get_or_set("exp", "short", "a", ttl_s=0.05)
        store.get_or_set("exp", "long", "a", ttl_s=60)
        store.get_or_set("exp", "forever", "a")
        time.sleep(0.1)
        assert store.purge_expired() == 1
        assert store.purge_expired() == 0
        assert store.get("exp", "long") == "a" and store.get("exp", "forever") == "a"
        assert store.counts("exp") == {"a": 3}  # counts are a history of creations, not a census
    finally:
        store.close()


def test_each_thread_gets_its_own_connection(tmp_path: Path) -> None:
    import threading

    store = SQLiteStore(tmp_path / "a.db")
    seen: list[int] = []

    def work() -> None:
        store.get("exp", "u")
        seen.append(id(store._conn()))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 3
    store.close()
    with pytest.raises(StoreUnavailable):
        store.get("exp", "u")
