"""Body of one OS process queueing a review item at a start signal (spawned)."""

from __future__ import annotations

from typing import Any

from routing_agent.control.review_store import ReviewItem, review_store_for
from tests.assignment.conformance import StoreSpec


def submit_at_signal(spec: StoreSpec, item: ReviewItem, barrier: Any, out: Any) -> None:
    """Open the review store beside ``spec``'s store, wait, submit; put ``(held id, created)``."""
    store = spec.open()
    reviews = review_store_for(store)
    try:
        reviews.items("warm-up")
        barrier.wait(timeout=120)
        held, created = reviews.submit(item)
        out.put((held.id, created))
    except BaseException as exc:
        out.put(repr(exc))
        raise
    finally:
        reviews.close()
        store.close()
