"""The assignment-store protocol every backend (memory, SQLite, Redis) implements.

A store keeps three things per experiment, all readable by every worker:

* the sticky assignment of each unit (first writer wins, atomically, across processes and machines);
* the experiment's live state (running / paused / rolled_back / shipped / stopped) with its history;
* the number of units assigned to each variant (for SRM checks and the report).

Every method may raise ``StoreUnavailable`` (down, timed out, read-only). The routing node catches it and
falls back to the deterministic hash; stores themselves never swallow errors.
"""

from __future__ import annotations

__all__ = ["AssignmentStore"]

from typing import Any, Protocol, runtime_checkable

from routing_agent.config.spec import ExperimentStatus
from routing_agent.stores.assignments.state import ExperimentState
from routing_agent.stores.capabilities import Capability


@runtime_checkable
class AssignmentStore(Protocol):
    """Sticky assignments, experiment state and per-variant counts. Sync and async twins."""

    capabilities: frozenset[Capability]

    def get_or_set(
        self, experiment: str, unit_id: str, variant: str, *, ttl_s: float | None = None
    ) -> tuple[str, bool]:
        """Atomically store ``variant`` for the unit unless one is stored.

        Returns ``(variant held by the store, created)``; when another writer won, its variant is returned
        and ``created`` is False. Counts increment only when ``created``.
        """
        ...

    async def aget_or_set(
        self, experiment: str, unit_id: str, variant: str, *, ttl_s: float | None = None
    ) -> tuple[str, bool]:
        """Async twin of ``get_or_set``."""
        ...

    def get(self, experiment: str, unit_id: str) -> str | None:
        """The stored variant of a unit, or None."""
        ...

    async def aget(self, experiment: str, unit_id: str) -> str | None:
        """Async twin of ``get``."""
        ...

    def get_state(self, experiment: str) -> ExperimentState | None:
        """The live state, or None when it was never set (the YAML's status applies)."""
        ...

    async def aget_state(self, experiment: str) -> ExperimentState | None:
        """Async twin of ``get_state``."""
        ...

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
        """Record a state change (appended to the history) and return the new state.

        With ``expected_version``, the change is applied only if the current version matches (compare and
        set; a never-set state has version 0); otherwise ``StateTransitionError`` is raised and nothing
        changes.
        """
        ...

    def history(self, experiment: str) -> list[ExperimentState]:
        """Every state change, oldest first."""
        ...

    def counts(self, experiment: str) -> dict[str, int]:
        """Units assigned per variant (only units whose assignment was created in this store)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
