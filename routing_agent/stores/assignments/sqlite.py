"""Embedded assignment store: one SQLite file shared by every thread and process on a machine.

* WAL journal (readers never block the writer), ``synchronous=NORMAL``, ``busy_timeout`` (default 2 s).
* First writer wins across OS processes: ``INSERT … ON CONFLICT DO UPDATE … WHERE expired`` and the count
  bump run in one ``BEGIN IMMEDIATE`` transaction, so exactly one process creates a unit's row and counts it.
  A sticky hit is answered by a plain read without taking the write lock.
* TTL: rows carry ``expires_at`` (unix seconds); an expired row reads as absent; the next writer replaces it.
* Experiment state: ``ra_state`` (current, with ``version``) and ``ra_state_history`` (append-only), changed
  together in one transaction with compare-and-set on the version.
* One connection per thread (and per process after a fork); async twins run in ``asyncio.to_thread``.
* Any ``sqlite3`` error (locked past the busy timeout, disk I/O, not a database) becomes ``StoreUnavailable``.
"""

from __future__ import annotations

__all__ = ["SQLiteStore", "from_url"]

import asyncio
import os
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from routing_agent.config.spec import ExperimentStatus
from routing_agent.stores.assignments.state import ExperimentState

if TYPE_CHECKING:
    from routing_agent.stores._url import StoreURL
from routing_agent.stores._sqlite import ThreadConnections, check_path
from routing_agent.stores.assignments._common import (
    cas_conflict,
    check_assignment,
    decode_state,
    encode_state,
    new_state,
)
from routing_agent.stores.capabilities import Capability

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ra_assignments (
    experiment TEXT NOT NULL,
    unit_id    BLOB NOT NULL,
    variant    TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    PRIMARY KEY (experiment, unit_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ra_counts (
    experiment TEXT NOT NULL,
    variant    TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (experiment, variant)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ra_state (
    experiment TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    data       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ra_state_history (
    experiment TEXT NOT NULL,
    version    INTEGER NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (experiment, version)
);
"""

_READ = "SELECT variant, expires_at FROM ra_assignments WHERE experiment = ? AND unit_id = ?"
_CLAIM = (
    "INSERT INTO ra_assignments (experiment, unit_id, variant, created_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (experiment, unit_id) DO UPDATE SET variant = excluded.variant, "
    "created_at = excluded.created_at, expires_at = excluded.expires_at "
    "WHERE ra_assignments.expires_at IS NOT NULL AND ra_assignments.expires_at <= excluded.created_at"
)
_COUNT = (
    "INSERT INTO ra_counts (experiment, variant, n) VALUES (?, ?, 1) "
    "ON CONFLICT (experiment, variant) DO UPDATE SET n = n + 1"
)


def _unit_key(unit_id: str) -> bytes:
    # BLOB keys: exact bytes for any Python string, lone surrogates included.
    return unit_id.encode("utf-8", "surrogatepass")


class SQLiteStore:
    """Sticky assignments, experiment state and counts in one SQLite file (WAL)."""

    capabilities: frozenset[Capability] = frozenset({Capability.TTL, Capability.MULTI_PROCESS})

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 2000) -> None:
        """Open (creating if needed) the database at ``path``; its folder is created too.

        ``busy_timeout_ms``: how long a call waits for another process's write lock before it raises
        ``StoreUnavailable``.
        """
        self.path = check_path(path, "SQLiteStore")
        self.busy_timeout_ms = int(busy_timeout_ms)
        self._connections = ThreadConnections(
            self.path, self.busy_timeout_ms, owner="SQLite store", require_wal=True
        )
        with self._errors():
            conn = self._conn()
            have = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                "('ra_assignments', 'ra_counts', 'ra_state', 'ra_state_history')"
            ).fetchone()[0]
            if have == 4:  # already set up: opening takes no write lock
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- connections and errors --------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def _errors(self) -> AbstractContextManager[None]:
        return self._connections.read()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._connections.write()

    # -- assignments -------------------------------------------------------------------------------------

    def get_or_set(
        self, experiment: str, unit_id: str, variant: str, *, ttl_s: float | None = None
    ) -> tuple[str, bool]:
        """Store ``variant`` unless an unexpired one is held; returns ``(held variant, created)``."""
        check_assignment(experiment, unit_id, variant, ttl_s)
        key = _unit_key(unit_id)
        with self._errors():
            row = self._conn().execute(_READ, (experiment, key)).fetchone()
        now = time.time()
        if row is not None and (row[1] is None or row[1] > now):
            return str(row[0]), False
        with self._write() as conn:
            now = time.time()
            expires = None if ttl_s is None else now + ttl_s
            if conn.execute(_CLAIM, (experiment, key, variant, now, expires)).rowcount == 1:
                conn.execute(_COUNT, (experiment, variant))
                return variant, True
            row = conn.execute(_READ, (experiment, key)).fetchone()
            return str(row[0]), False

    async def aget_or_set(
        self, experiment: str, unit_id: str, variant: str, *, ttl_s: float | None = None
    ) -> tuple[str, bool]:
        """Async twin of ``get_or_set`` (runs in a worker thread)."""
        return await asyncio.to_thread(self.get_or_set, experiment, unit_id, variant, ttl_s=ttl_s)

    def get(self, experiment: str, unit_id: str) -> str | None:
        """The unit's unexpired variant, or None."""
        with self._errors():
            row = self._conn().execute(_READ, (experiment, _unit_key(unit_id))).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return None
        return str(row[0])

    async def aget(self, experiment: str, unit_id: str) -> str | None:
        """Async twin of ``get``."""
        return await asyncio.to_thread(self.get, experiment, unit_id)

    def counts(self, experiment: str) -> dict[str, int]:
        """Assignments created per variant."""
        with self._errors():
            rows = self._conn().execute(
                "SELECT variant, n FROM ra_counts WHERE experiment = ?", (experiment,)
            )
            return {str(v): int(n) for v, n in rows}

    def purge_expired(self) -> int:
        """Delete expired assignment rows (they already read as absent); returns how many went."""
        with self._write() as conn:
            cur = conn.execute(
                "DELETE FROM ra_assignments WHERE expires_at IS NOT NULL AND expires_at <= ?", (time.time(),)
            )
            return int(cur.rowcount)

    # -- experiment state --------------------------------------------------------------------------------

    def get_state(self, experiment: str) -> ExperimentState | None:
        """The live state, or None when never set."""
        with self._errors():
            row = (
                self._conn()
                .execute("SELECT version, data FROM ra_state WHERE experiment = ?", (experiment,))
                .fetchone()
            )
        return None if row is None else decode_state(row[0], row[1])

    async def aget_state(self, experiment: str) -> ExperimentState | None:
        """Async twin of ``get_state``."""
        return await asyncio.to_thread(self.get_state, experiment)

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
        """Record a state change and its history row in one transaction (compare-and-set when asked)."""
        draft = new_state(experiment, status, actor=actor, reason=reason, winner=winner, evidence=evidence)
        data = encode_state(draft)
        with self._write() as conn:
            row = conn.execute("SELECT version FROM ra_state WHERE experiment = ?", (experiment,)).fetchone()
            version = int(row[0]) if row is not None else 0
            if expected_version is not None and expected_version != version:
                raise cas_conflict(experiment, expected_version, version)
            conn.execute(
                "INSERT INTO ra_state (experiment, version, data) VALUES (?, ?, ?) ON CONFLICT (experiment) "
                "DO UPDATE SET version = excluded.version, data = excluded.data",
                (experiment, version + 1, data),
            )
            conn.execute(
                "INSERT INTO ra_state_history (experiment, version, data) VALUES (?, ?, ?)",
                (experiment, version + 1, data),
            )
        return replace(draft, version=version + 1)

    def history(self, experiment: str) -> list[ExperimentState]:
        """Every state change, oldest first."""
        with self._errors():
            rows = self._conn().execute(
                "SELECT version, data FROM ra_state_history WHERE experiment = ? ORDER BY version",
                (experiment,),
            )
            return [decode_state(v, d) for v, d in rows]

    def close(self) -> None:
        """Close every connection this store opened; later calls raise ``StoreUnavailable``."""
        self._connections.close()


def from_url(url: StoreURL) -> SQLiteStore:
    """The registry's opener: the file at ``url.location``, ``?busy_timeout_ms=`` (default 2000)."""
    return SQLiteStore(url.location, busy_timeout_ms=url.get("busy_timeout_ms", 2000))
