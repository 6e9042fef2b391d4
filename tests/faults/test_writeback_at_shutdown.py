"""Write-backs still pending when the routing node closes are logged and counted, never dropped silently
(issue 15, point 9: 1,374 were lost on a full disk without a word)."""

from __future__ import annotations

import logging
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
    node = RoutingNode(make_config(), store=store, outage=OutagePolicy(backoff_s=60.0, max_backoff_s=60.0))
    node.invoke({"session_id": "warm"})  # the tables exist before the lock
    holder = LockHolder(path)
    try:
        for i in range(25):
            node.invoke({"session_id": f"s{i}"})  # decided by the hash, queued for write-back
        assert node.stats()["pending_writeback"] == 25
        with caplog.at_level(logging.WARNING, logger="routing_agent"):
            node.close()  # the store is still locked: nothing can be written back
    finally:
        holder.release()
    assert node.stats()["events"]["writeback_dropped"] == 25
    assert node.stats()["pending_writeback"] == 0
    assert any(
        "25 unit(s)" in r.getMessage() and "never written back" in r.getMessage() for r in caplog.records
    )
