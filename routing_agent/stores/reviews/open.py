"""``open_review_store``: the review store that lives beside an assignment store (same URL, same place).

A review queue is kept where the experiment's state is: the same SQLite file (table ``ra_reviews``), the same
Redis (keys under the same prefix and hash tag; ``review_store_for`` uses the assignment store's public
``client()``), or, for ``memory://``, one in-process queue per ``MemoryStore`` (so everything built on one
memory store shares it). URLs follow the grammar of ``routing_agent.stores``.
"""

from __future__ import annotations

__all__ = ["open_review_store", "review_store_for"]

import os
import threading
import weakref
from typing import cast

from routing_agent.stores._url import open_url
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.memory import MemoryStore
from routing_agent.stores.assignments.sqlite import SQLiteStore
from routing_agent.stores.reviews.base import ReviewStore
from routing_agent.stores.reviews.memory import MemoryReviewStore
from routing_agent.stores.reviews.sqlite import SQLiteReviewStore

_MEMORY: weakref.WeakKeyDictionary[MemoryStore, MemoryReviewStore] = weakref.WeakKeyDictionary()
_MEMORY_LOCK = threading.Lock()


def review_store_for(store: AssignmentStore, *, owns: bool = False) -> ReviewStore:
    """The review store beside ``store``; with ``owns``, closing it also closes ``store``."""
    if isinstance(store, MemoryStore):
        with _MEMORY_LOCK:
            reviews = _MEMORY.get(store)
            if reviews is None:
                reviews = _MEMORY[store] = MemoryReviewStore()
            return reviews
    if isinstance(store, SQLiteStore):
        sqlite_reviews = SQLiteReviewStore(store.path, busy_timeout_ms=store.busy_timeout_ms)
        if owns:
            store.close()  # the review store opens its own connections on the same file
        return sqlite_reviews
    from routing_agent.stores.assignments.redis import RedisStore

    if isinstance(store, RedisStore):
        from routing_agent.stores.reviews.redis import RedisReviewStore

        # The store's own sync client (built on first use): same URL, credentials, TLS, timeouts, cluster.
        return RedisReviewStore(
            client_factory=store.client, prefix=store.prefix, on_close=store.close if owns else None
        )
    raise TypeError(
        f"no review store for {type(store).__name__}: pass a ReviewStore, or use a memory, SQLite or "
        "Redis store"
    )


def open_review_store(
    target: ReviewStore | AssignmentStore | str | os.PathLike[str] | None,
    *,
    prefix: str | None = None,
    timeout_s: float | None = None,
) -> ReviewStore:
    """A review store for a URL or path, the one beside an assignment store, or ``target`` as is.

    ``None`` is ``memory://`` (a new, empty in-process queue). ``prefix`` and ``timeout_s`` apply to Redis
    URLs and override their query options (``?timeout=`` defaults to 2 s: a control-plane store).
    """
    if target is None or isinstance(target, str | os.PathLike):
        return cast("ReviewStore", open_url("reviews", target, prefix=prefix, timeout=timeout_s))
    if isinstance(target, AssignmentStore):
        return review_store_for(target)
    return target
