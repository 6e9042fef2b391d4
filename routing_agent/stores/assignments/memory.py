"""In-process assignment store: a dict behind a lock. For tests, notebooks and single-process services.

Thread-safe; the async twins run inline (no I/O to wait for). Optional TTL on the monotonic clock. Nothing is
shared with other processes, so several workers need ``SQLiteStore`` (one machine) or ``RedisStore``.
"""

from __future__ import annotations

__all__ = ["MemoryStore", "from_url"]

import threading
import time
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from routing_agent.config.spec import ExperimentStatus
from routing_agent.errors import StoreUnavailable
from routing_agent.stores.assignments.state import ExperimentState

if TYPE_CHECKING:
    from routing_agent.stores._url import StoreURL
from routing_agent.stores.assignments._common import cas_conflict, check_assignment, new_state
from routing_agent.stores.capabilities import Capability

_SWEEP_EVERY = 4096


class MemoryStore:
    """Sticky assignments, experiment state and counts in this process's memory."""

    capabilities: frozenset[Capability] = frozenset({Capability.TTL})

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (experiment, unit_id) -> (variant, expires_at on time.monotonic() or None)
        self._assignments: dict[tuple[str, str], tuple[str, float | None]] = {}
        self._counts: dict[str, Counter[str]] = {}
        self._states: dict[str, ExperimentState] = {}
        self._history: dict[str, list[ExperimentState]] = {}
        self._closed = False
        self._writes_since_sweep = 0

    def __repr__(self) -> str:
        return f"MemoryStore(units={len(self._assignments)})"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("MemoryStore is closed")

    # -- assignments -------------------------------------------------------------------------------------

    def get_or_set(
        self, experiment: str, unit_id: str, variant: str, *, ttl_s: float | None = None
    ) -> tuple[str, bool]:
        """Store ``variant`` for the unit unless one is held; returns ``(held variant, created)``."""
        check_assignment(experiment, unit_id, variant, ttl_s)
        key = (experiment, unit_id)
        with self._lock:
            self._check_open()
            now = time.monotonic()
            held = self._assignments.get(key)
            if held is not None and (held[1] is None or held[1] > now):
                return held[0], False
            self._assignments[key] = (variant, None if ttl_s is None else now + ttl_s)
            self._counts.setdefault(experiment, Counter())[variant] += 1
            self._writes_since_sweep += 1
            if self._writes_since_sweep >= _SWEEP_EVERY:
                self._sweep(now)
            return variant, True

    def _sweep(self, now: float) -> None:
        # Expired entries are dropped lazily on read; this bounds memory for units never seen again.
        self._writes_since_sweep = 0
        expired = [k for k, (_, exp) in self._assignments.items() if exp is not None and exp <= now]
        for k in expired:
            del self._assignments[k]

    async def aget_or_set(
        self, experiment: str, unit_id: str, variant: str, *, ttl_s: float | None = None
    ) -> tuple[str, bool]:
        """Async twin of ``get_or_set``."""
        return self.get_or_set(experiment, unit_id, variant, ttl_s=ttl_s)

    def get(self, experiment: str, unit_id: str) -> str | None:
        """The unit's unexpired variant, or None."""
        with self._lock:
            self._check_open()
            held = self._assignments.get((experiment, unit_id))
            if held is None:
                return None
            if held[1] is not None and held[1] <= time.monotonic():
                del self._assignments[(experiment, unit_id)]
                return None
            return held[0]

    async def aget(self, experiment: str, unit_id: str) -> str | None:
        """Async twin of ``get``."""
        return self.get(experiment, unit_id)

    def counts(self, experiment: str) -> dict[str, int]:
        """Assignments created per variant."""
        with self._lock:
            self._check_open()
            return dict(self._counts.get(experiment, {}))

    # -- experiment state --------------------------------------------------------------------------------

    def get_state(self, experiment: str) -> ExperimentState | None:
        """The live state, or None when never set."""
        with self._lock:
            self._check_open()
            return self._states.get(experiment)

    async def aget_state(self, experiment: str) -> ExperimentState | None:
        """Async twin of ``get_state``."""
        return self.get_state(experiment)

    def set_state(
        self,
        experiment: str,
        status: ExperimentStatus,
        *,
        actor: str,
        reason: str = "",
        winner: str | None = None,
        evidence: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> ExperimentState:
        """Record a state change (compare-and-set on ``expected_version`` when given)."""
        draft = new_state(experiment, status, actor=actor, reason=reason, winner=winner, evidence=evidence)
        with self._lock:
            self._check_open()
            current = self._states.get(experiment)
            version = current.version if current is not None else 0
            if expected_version is not None and expected_version != version:
                raise cas_conflict(experiment, expected_version, version)
            state = replace(draft, version=version + 1)
            self._states[experiment] = state
            self._history.setdefault(experiment, []).append(state)
            return state

    def history(self, experiment: str) -> list[ExperimentState]:
        """Every state change, oldest first."""
        with self._lock:
            self._check_open()
            return list(self._history.get(experiment, []))

    def close(self) -> None:
        """Drop everything; later calls raise ``StoreUnavailable``."""
        with self._lock:
            self._closed = True
            self._assignments.clear()


def from_url(url: StoreURL) -> MemoryStore:
    """The registry's opener: a new, empty store (``memory://`` takes no options)."""
    return MemoryStore()
