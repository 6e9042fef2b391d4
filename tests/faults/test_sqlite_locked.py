"""The SQLite store file locked by another process (a child holding ``BEGIN EXCLUSIVE`` with a write in it).
Decisions wait at most ``busy_timeout_ms`` once per back-off period, then route by the hash; sticky units
keep their variant; everything is written back unchanged once the lock is released."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.load_worker import TimedRoutingNode
from routing_agent.assignment.guard import OutagePolicy
from routing_agent.stores.assignments import open_store
from tests.faults.support import graph_with, hashed_variant
from tests.graph.test_routing_node import make_config

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO ra_counts (experiment, variant, n) VALUES ('lock', 'holder', 1)")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""


class LockHolder:
    """A child process holding the database's write lock until ``release()``."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        assert self.proc.wait(10) == 0


def test_a_locked_sqlite_file_delays_a_decision_by_the_busy_timeout_at_most(tmp_path: Path) -> None:
    path = tmp_path / "assign.sqlite3"
    store = open_store(f"sqlite:///{path}?busy_timeout_ms=1000")  # long enough to tell from a busy CPU
    durations: list[float] = []
    # a back-off longer than the 40 locked-phase sessions take, however busy the machine: no probe among them
    outage = OutagePolicy(backoff_s=5.0, max_backoff_s=5.0)
    node = TimedRoutingNode(
        make_config(), store=store, durations=durations, state_refresh_s=3600, outage=outage
    )
    graph = graph_with(node)
    before = {
        f"old{i}": graph.invoke({"session_id": f"old{i}", "seen": []})["routing"]["exp"] for i in range(20)
    }
    holder = LockHolder(path)
    start = len(durations)
    during = {}
    for i in range(40):
        sid = f"new{i}" if i % 2 else f"old{i // 2}"
        out = graph.invoke({"session_id": sid, "seen": []})
        assert len({s["model_id"] for s in out["seen"]}) == 1
        during[sid] = out["routing"]["exp"]
    waits = durations[start:]
    holder.release()
    for sid, record in during.items():
        assert record["variant"] == hashed_variant(sid)
        if sid.startswith("new"):
            assert record["reason"] == "store_unavailable"
        else:
            assert record["variant"] == before[sid]["variant"]
    assert max(waits) < 1.9  # one busy timeout (1 s), never two
    assert sum(w > 0.8 for w in waits) == 1  # the guard stopped asking after the first wait
    stats = node.stats()
    assert stats["events"]["outage"] == 1
    time.sleep(outage.backoff_s + 0.1)  # the back-off expires; the next decision probes, the store answers
    assert graph.invoke({"session_id": "after", "seen": []})["routing"]["exp"]["reason"] == "hashed"
    assert node.assigner.guard.wait_flushed(10)
    assert node.stats()["events"].get("writeback_conflict", 0) == 0
    for sid, record in during.items():
        assert store.get("exp", sid) == record["variant"]
    store.close()


def test_with_the_default_busy_timeout_concurrent_requests_do_not_all_wait(tmp_path: Path) -> None:
    """Default busy timeout (2 s): the first decision waits it out, the half-open guard lets one probe at a
    time through, so four threads running 25 sessions each on the locked file see a handful of 2 s waits,
    not dozens."""
    path = tmp_path / "assign.sqlite3"
    store = open_store(str(path))
    durations: list[float] = []
    node = TimedRoutingNode(make_config(), store=store, durations=durations, state_refresh_s=3600)
    graph = graph_with(node)
    graph.invoke({"session_id": "warm", "seen": []})
    holder = LockHolder(path)
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        for i in range(25):
            try:
                graph.invoke({"session_id": f"w{w}-{i}", "seen": []})
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)  # hang guard: 100 sessions, of which only a handful may wait the 2 s busy timeout
    holder.release()
    assert not errors and not any(t.is_alive() for t in threads)
    assert len(durations) == 1 + 100
    long_waits = [d for d in durations if d > 1.0]
    # the calls in flight when it locked, then one probe at a time as the back-off expires
    assert 1 <= len(long_waits) <= 4 + 2, long_waits
    store.close()
