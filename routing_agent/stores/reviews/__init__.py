"""Review stores: the human-review queue, kept beside the experiment state (memory, SQLite, Redis).

``open_review_store(url)`` takes the URL grammar of every store family; ``review_store_for(store)`` gives the
queue that lives beside an open assignment store. Backends: ``memory``, ``sqlite``, ``redis`` (an extra).
"""

from __future__ import annotations

__all__ = [
    "MemoryReviewStore",
    "ReviewItem",
    "ReviewStatus",
    "ReviewStore",
    "open_review_store",
    "review_store_for",
]

from routing_agent.stores.reviews.base import ReviewItem, ReviewStatus, ReviewStore
from routing_agent.stores.reviews.memory import MemoryReviewStore
from routing_agent.stores.reviews.open import open_review_store, review_store_for
