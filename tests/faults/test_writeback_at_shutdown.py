"""Write-backs still pending when the routing node closes are logged and counted, never dropped silently
(issue 15, point 9: 1,374 were lost on a full disk without a word)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from routing_agent.assignment.guard import OutagePolicy
from routing_agent.graph import RoutingNode
from routing_agent.stores.assignments import open_store
from tests.faults.test_sqlite_locked import LockHolder
from tests.graph.test_routing_node import make_config


def test_pending_writebacks_at_close_are_logged_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "assign.sqlite3"
    store = open_store(f"sqlite:///{path}?busy_timeout_ms=50")
    policy = OutagePolicy(backoff_s=60.0, max_backoff_s=60.0, close_flush_s=0.5)
    node = RoutingNode(make_config(), store=store, outage=policy)
    node.invoke({"session_id": "warm"})  # the tables exist before the lock
    holder = LockHolder(path)
    try:
        for i in range(25):
            node.invoke({"session_id": f"s{i}"})  # decided by the hash, queued for write-back
        assert node.stats()["pending_writeback"] == 25
        with caplog.at_level(logging.WARNING, logger="routing_agent"):
            node.close()  # the store stays locked past close_flush_s: nothing can be written back
    finally:
        holder.release()
    assert node.stats()["events"]["writeback_dropped"] == 25
    assert node.stats()["pending_writeback"] == 0
    assert any(
        "25 unit(s)" in r.getMessage() and "never written back" in r.getMessage() for r in caplog.records
    )


def test_close_keeps_retrying_write_backs_while_the_store_comes_back(tmp_path: Path) -> None:
    """A store that fails the first write-back (a timeout under load, a restart) but answers within
    ``close_flush_s`` gets every queued unit: closing retries instead of giving up at the first failure."""
    path = tmp_path / "assign.sqlite3"
    store = open_store(f"sqlite:///{path}?busy_timeout_ms=50")
    policy = OutagePolicy(backoff_s=60.0, max_backoff_s=60.0, close_flush_s=60.0)
    node = RoutingNode(make_config(), store=store, outage=policy)
    node.invoke({"session_id": "warm"})
    holder = LockHolder(path)
    routed: dict[str, dict[str, dict[str, str]]] = {}
    for i in range(25):
        routed[f"s{i}"] = node.invoke({"session_id": f"s{i}"})["routing"]
    assert node.stats()["pending_writeback"] == 25
    releaser = threading.Timer(0.5, holder.release)  # the store answers again while close retries
    releaser.start()
    try:
        node.close()
    finally:
        releaser.join()
        if holder.proc.poll() is None:
            holder.release()
    assert node.stats()["pending_writeback"] == 0
    assert node.stats()["events"].get("writeback_dropped", 0) == 0
    assert node.stats()["events"]["writeback"] == 25
    reopened = open_store(f"sqlite:///{path}")
    try:
        for unit, routing in routed.items():
            (experiment, record), *_ = routing.items()
            assert reopened.get(experiment, unit) == record["variant"]
    finally:
        reopened.close()
