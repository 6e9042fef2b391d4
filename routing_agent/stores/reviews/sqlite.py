"""Review store in SQLite: the same file as the assignment store, shared by every process on a machine.

Table ``ra_reviews`` (one row per item, ``data`` is the item's canonical JSON) with a partial unique index
that allows at most one ``pending`` row per experiment, so two ``watch`` processes queueing the same ship
cannot both succeed. Writes run in ``BEGIN IMMEDIATE`` transactions; ``replace`` is
``UPDATE … WHERE data = old``. WAL journal and ``busy_timeout`` as in ``SQLiteStore``; any ``sqlite3``
error becomes ``StoreUnavailable``.
"""

from __future__ import annotations

__all__ = ["SQLiteReviewStore", "beside", "from_url"]

import os
import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from routing_agent.stores._sqlite import ThreadConnections, check_path
from routing_agent.stores.capabilities import Capability
from routing_agent.stores.reviews.base import ReviewItem, ReviewStatus, decode_item, encode_item

if TYPE_CHECKING:
    from routing_agent.stores._url import StoreURL

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ra_reviews (id TEXT PRIMARY KEY, experiment TEXT NOT NULL, "
    "status TEXT NOT NULL, created_at REAL NOT NULL, data TEXT NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ra_reviews_one_pending ON ra_reviews (experiment) "
    "WHERE status = 'pending'",
    "CREATE INDEX IF NOT EXISTS ra_reviews_by_experiment ON ra_reviews (experiment, created_at)",
)


class SQLiteReviewStore:
    """Review items in one SQLite file (WAL), shared by the threads and processes of one machine."""

    capabilities: frozenset[Capability] = frozenset({Capability.MULTI_PROCESS})

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 2000) -> None:
        """Open (creating if needed) the review table in the database at ``path``."""
        self.path = check_path(path, "SQLiteReviewStore")
        self.busy_timeout_ms = int(busy_timeout_ms)
        self._connections = ThreadConnections(self.path, self.busy_timeout_ms, owner="SQLite review store")
        with self._write() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    def __repr__(self) -> str:
        return f"SQLiteReviewStore({str(self.path)!r})"

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def _errors(self) -> AbstractContextManager[None]:
        return self._connections.read()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._connections.write()

    def submit(self, item: ReviewItem) -> tuple[ReviewItem, bool]:
        """Store ``item`` unless its experiment has a pending item; returns ``(pending item, created)``."""
        if item.status is not ReviewStatus.PENDING:
            raise ValueError("only pending items are submitted")
        with self._write() as conn:
            row = conn.execute(
                "SELECT data FROM ra_reviews WHERE experiment = ? AND status = 'pending'", (item.experiment,)
            ).fetchone()
            if row is not None:
                return decode_item(row[0]), False
            try:
                conn.execute(
                    "INSERT INTO ra_reviews (id, experiment, status, created_at, data) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (item.id, item.experiment, item.status.value, item.created_at, encode_item(item)),
                )
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"review id {item.id!r} is taken") from exc
        return item, True

    def get(self, review_id: str) -> ReviewItem | None:
        """The item with this id, or None."""
        with self._errors():
            row = self._conn().execute("SELECT data FROM ra_reviews WHERE id = ?", (review_id,)).fetchone()
        return None if row is None else decode_item(row[0])

    def items(self, experiment: str | None = None) -> list[ReviewItem]:
        """Every item (of one experiment, or all), oldest first."""
        with self._errors():
            if experiment is None:
                rows = self._conn().execute("SELECT data FROM ra_reviews ORDER BY created_at, id").fetchall()
            else:
                rows = (
                    self._conn()
                    .execute(
                        "SELECT data FROM ra_reviews WHERE experiment = ? ORDER BY created_at, id",
                        (experiment,),
                    )
                    .fetchall()
                )
        return [decode_item(r[0]) for r in rows]

    def replace(self, old: ReviewItem, new: ReviewItem) -> bool:
        """Compare-and-set on the stored item (see ``ReviewStore.replace``)."""
        if old.id != new.id or old.experiment != new.experiment:
            raise ValueError("replace keeps the item's id and experiment")
        with self._write() as conn:
            try:
                cur = conn.execute(
                    "UPDATE ra_reviews SET data = ?, status = ? WHERE id = ? AND data = ?",
                    (encode_item(new), new.status.value, new.id, encode_item(old)),
                )
            except sqlite3.IntegrityError:
                return False  # moving back to pending while another item of the experiment is pending
            return cur.rowcount == 1

    def close(self) -> None:
        """Close every connection; later calls raise ``StoreUnavailable``."""
        self._connections.close()


def from_url(url: StoreURL) -> SQLiteReviewStore:
    """The registry's opener: the file at ``url.location``, ``?busy_timeout_ms=`` (default 2000)."""
    return SQLiteReviewStore(url.location, busy_timeout_ms=url.get("busy_timeout_ms", 2000))


def beside(store: object, *, owns: bool = False) -> SQLiteReviewStore | None:
    """The review table in a ``SQLiteStore``'s file (its own connections; ``owns`` closes the store's)."""
    from routing_agent.stores.assignments.sqlite import SQLiteStore

    if not isinstance(store, SQLiteStore):
        return None
    reviews = SQLiteReviewStore(store.path, busy_timeout_ms=store.busy_timeout_ms)
    if owns:
        store.close()  # the review store opens its own connections on the same file
    return reviews
