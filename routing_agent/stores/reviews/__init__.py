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

from routing_agent.stores.reviews.base import ReviewItem, ReviewStatus, ReviewStore
from routing_agent.stores.reviews.memory import MemoryReviewStore
from routing_agent.stores.reviews.open import open_review_store, review_store_for
from routing_agent.stores.reviews.sqlite import SQLiteReviewStore

if TYPE_CHECKING:
    from routing_agent.stores.reviews.redis import RedisReviewStore


def __getattr__(name: str) -> Any:
    if name == "RedisReviewStore":
        from routing_agent.stores.reviews.redis import RedisReviewStore

        return RedisReviewStore
    raise AttributeError(name)
