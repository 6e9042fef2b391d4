"""Assignment stores: sticky unit → variant, live experiment state, counts. One protocol, three backends.

* ``MemoryStore`` — this process only (tests, notebooks).
* ``SQLiteStore`` — one file shared by the threads and processes of one machine; the embedded default.
* ``RedisStore`` — shared by every worker on every machine; Redis Cluster ready (one hash tag per experiment).

``open_store(url)`` picks one by the URL grammar every store family shares (``routing_agent.stores``).
``RedisStore`` is imported lazily so that the ``redis`` package stays optional.
"""

from __future__ import annotations

__all__ = ["AssignmentStore", "MemoryStore", "RedisStore", "SQLiteStore", "open_control_store", "open_store"]

from typing import TYPE_CHECKING, Any

from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.memory import MemoryStore
from routing_agent.stores.assignments.open import open_control_store, open_store
from routing_agent.stores.assignments.sqlite import SQLiteStore

if TYPE_CHECKING:
    from routing_agent.stores.assignments.redis import RedisStore


def __getattr__(name: str) -> Any:
    if name == "RedisStore":
        from routing_agent.stores.assignments.redis import RedisStore

        return RedisStore
    raise AttributeError(name)
