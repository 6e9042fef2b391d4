"""A bounded, thread-safe memory of assignments this process has confirmed with the store.

A stored assignment never changes (first writer wins; only a TTL can expire it), so a unit the store has
already answered for can be answered again from memory: a returning session costs no round trip, and during
a store outage recently seen units keep their variant even if the weights changed since (the hash alone could
flip them). Entries live at most ``max_age_s`` (never past the assignment's own TTL); the oldest go first.
"""

from __future__ import annotations

__all__ = ["RecentAssignments"]

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RecentAssignments:
    """LRU of ``(experiment, unit_id) → variant`` confirmed by the store."""

    def __init__(
        self,
        max_entries: int = 100_000,
        max_age_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()

    def get(self, experiment: str, unit_id: str) -> str | None:
        """The remembered variant, or None (unknown or too old)."""
        if self.max_entries <= 0:
            return None
        key = (experiment, unit_id)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[1] <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, experiment: str, unit_id: str, variant: str, ttl_s: float | None = None) -> None:
        """Remember a variant the store confirmed (for ``max_age_s``, or less when its TTL is shorter)."""
        if self.max_entries <= 0:
            return
        age = self.max_age_s if ttl_s is None else min(self.max_age_s, ttl_s)
        with self._lock:
            self._entries[(experiment, unit_id)] = (variant, self._clock() + age)
            self._entries.move_to_end((experiment, unit_id))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, experiment: str | None = None) -> None:
        """Drop every entry (of one experiment)."""
        with self._lock:
            if experiment is None:
                self._entries.clear()
            else:
                for key in [k for k in self._entries if k[0] == experiment]:
                    del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
