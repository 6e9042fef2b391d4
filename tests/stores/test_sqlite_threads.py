"""Many threads of one process writing new units while the GIL is busy: none starves past busy_timeout."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from routing_agent.errors import StoreUnavailable
from routing_agent.stores.assignments.sqlite import SQLiteStore


def _busy_python(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def test_sixteen_gil_bound_threads_never_see_the_store_as_unavailable(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "a.sqlite3", busy_timeout_ms=500)
    failures: list[str] = []
    created = [0]
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(150):
            _busy_python(3000)  # like an agent's Python work between two routing decisions
            try:
                _, was_created = store.get_or_set("exp", uuid.uuid4().hex, "control")
            except StoreUnavailable as exc:
                failures.append(str(exc))
                continue
            with lock:
                created[0] += int(was_created)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert failures == []
    assert created[0] == 16 * 150
    assert SQLiteStore(tmp_path / "a.sqlite3").counts("exp") == {"control": 2400}
