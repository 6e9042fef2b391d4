"""Review stores: the human-review queue, kept beside the experiment state (memory, SQLite, Redis).

``open_review_store(url)`` takes the assignment stores' URLs; ``review_store_for(store)`` gives the queue that
lives beside an open assignment store. ``RedisReviewStore`` is imported lazily (``redis`` is an extra).
"""

from __future__ import annotations

__all__ = [
    "MemoryReviewStore",
    "RedisReviewStore",
    "ReviewItem",
    "ReviewStatus",
    "ReviewStore",
    "SQLiteReviewStore",
    "open_review_store",
    "review_store_for",
]

from typing import TYPE_CHECKING, Any

from routing_agent.control.review_store.base import ReviewItem, ReviewStatus, ReviewStore
from routing_agent.control.review_store.memory import MemoryReviewStore
from routing_agent.control.review_store.open import open_review_store, review_store_for
from routing_agent.control.review_store.sqlite import SQLiteReviewStore

if TYPE_CHECKING:
    from routing_agent.control.review_store.redis import RedisReviewStore


def __getattr__(name: str) -> Any:
    if name == "RedisReviewStore":
        from routing_agent.control.review_store.redis import RedisReviewStore

        return RedisReviewStore
    raise AttributeError(name)
