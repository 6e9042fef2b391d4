"""Closing a SQLite store while other threads still route through it (a write-back thread, a thread pool)
must not kill the process: CPython's sqlite3 segfaults when a connection is closed under a running statement.
The race runs in a child process, so a crash fails this test instead of killing the test worker."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from routing_agent.errors import StoreUnavailable
from routing_agent.stores.assignments.sqlite import SQLiteStore

_RACE = textwrap.dedent(
    """
    import sys, threading, time
    from pathlib import Path
    from routing_agent.stores.assignments.sqlite import SQLiteStore
    from routing_agent.errors import StoreUnavailable

    root, rounds = Path(sys.argv[1]), int(sys.argv[2])
    after_close = 0
    for r in range(rounds):
        store = SQLiteStore(root / f"r{r}.sqlite3")
        stop = threading.Event()

        def hammer(t):
            i = 0
            while not stop.is_set():
                try:
                    store.get_or_set("exp", f"{t}-{i}", "control")
                    store.get("exp", f"{t}-{i}")
                except StoreUnavailable:
                    return
                i += 1

        threads = [threading.Thread(target=hammer, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.005)
        store.close()
        try:
            store.get("exp", "0-0")
        except StoreUnavailable:
            after_close += 1
        stop.set()
        for t in threads:
            t.join()
    print(f"rounds={rounds} refused_after_close={after_close}")
    """
)


def test_closing_under_running_threads_never_crashes_the_process(tmp_path: Path) -> None:
    rounds = 80  # the unguarded close crashed within a few dozen rounds on 2 cores
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", _RACE, str(tmp_path), str(rounds)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"the process died (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    assert proc.stdout.strip() == f"rounds={rounds} refused_after_close={rounds}"


def test_close_releases_its_own_and_finished_threads_connections_and_refuses_later_calls(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "a.sqlite3")
    worker = threading.Thread(target=store.get_or_set, args=("exp", "from-thread", "control"))
    worker.start()
    worker.join()
    store.get_or_set("exp", "from-main", "test")
    opened = list(store._connections._connections)
    assert len(opened) == 2
    store.close()
    for _thread, _pid, conn in opened:  # both owners are this thread or finished: closed now, not at GC
        with pytest.raises(Exception, match="closed"):
            conn.execute("SELECT 1")
    with pytest.raises(StoreUnavailable, match="closed"):
        store.get("exp", "from-main")
    reopened = SQLiteStore(tmp_path / "a.sqlite3")
    assert reopened.get("exp", "from-thread") == "control" and reopened.get("exp", "from-main") == "test"
    reopened.close()
