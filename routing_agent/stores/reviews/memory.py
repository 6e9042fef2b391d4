"""In-process review store: a dict behind a lock (tests, notebooks, one-process services)."""

from __future__ import annotations

__all__ = ["MemoryReviewStore", "beside", "from_url"]

import threading
import weakref
from typing import TYPE_CHECKING

from routing_agent.errors import StoreUnavailable
from routing_agent.stores.assignments.memory import MemoryStore
from routing_agent.stores.capabilities import Capability
from routing_agent.stores.reviews.base import ReviewItem, ReviewStatus

if TYPE_CHECKING:
    from routing_agent.stores._url import StoreURL


class MemoryReviewStore:
    """Review items in this process's memory; nothing is shared with other processes."""

    capabilities: frozenset[Capability] = frozenset()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, ReviewItem] = {}
        self._pending: dict[str, str] = {}  # experiment -> id of its pending item
        self._closed = False

    def __repr__(self) -> str:
        return f"MemoryReviewStore(items={len(self._items)})"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("MemoryReviewStore is closed")

    def submit(self, item: ReviewItem) -> tuple[ReviewItem, bool]:
        """Store ``item`` unless its experiment has a pending item; returns ``(pending item, created)``."""
        if item.status is not ReviewStatus.PENDING:
            raise ValueError("only pending items are submitted")
        with self._lock:
            self._check_open()
            held = self._pending.get(item.experiment)
            if held is not None:
                return self._items[held], False
            if item.id in self._items:
                raise ValueError(f"review id {item.id!r} is taken")
            self._items[item.id] = item
            self._pending[item.experiment] = item.id
            return item, True

    def get(self, review_id: str) -> ReviewItem | None:
        """The item with this id, or None."""
        with self._lock:
            self._check_open()
            return self._items.get(review_id)

    def items(self, experiment: str | None = None) -> list[ReviewItem]:
        """Every item (of one experiment, or all), oldest first."""
        with self._lock:
            self._check_open()
            found = [i for i in self._items.values() if experiment is None or i.experiment == experiment]
        return sorted(found, key=lambda i: (i.created_at, i.id))

    def replace(self, old: ReviewItem, new: ReviewItem) -> bool:
        """Compare-and-set on the stored item (see ``ReviewStore.replace``)."""
        if old.id != new.id or old.experiment != new.experiment:
            raise ValueError("replace keeps the item's id and experiment")
        with self._lock:
            self._check_open()
            if self._items.get(old.id) != old:
                return False
            slot = self._pending.get(new.experiment)
            if new.status is ReviewStatus.PENDING:
                if slot is not None and slot != new.id:
                    return False
                self._pending[new.experiment] = new.id
            elif slot == new.id:
                del self._pending[new.experiment]
            self._items[new.id] = new
            return True

    def close(self) -> None:
        """Drop everything; later calls raise ``StoreUnavailable``."""
        with self._lock:
            self._closed = True
            self._items.clear()
            self._pending.clear()


def from_url(url: StoreURL) -> MemoryReviewStore:
    """The registry's opener: a new, empty queue (``memory://`` takes no options)."""
    return MemoryReviewStore()


_BESIDE: weakref.WeakKeyDictionary[MemoryStore, MemoryReviewStore] = weakref.WeakKeyDictionary()
_BESIDE_LOCK = threading.Lock()


def beside(store: object, *, owns: bool = False) -> MemoryReviewStore | None:
    """The one in-process queue of a ``MemoryStore`` (everything built on that store shares it)."""
    if not isinstance(store, MemoryStore):
        return None
    with _BESIDE_LOCK:
        reviews = _BESIDE.get(store)
        if reviews is None:
            reviews = _BESIDE[store] = MemoryReviewStore()
        return reviews
