"""SQLite plumbing shared by the embedded stores (assignments, reviews, observations): ONE connection model.

* ``connect``: an autocommit connection (transactions are explicit ``BEGIN IMMEDIATE … COMMIT``) usable from
  any thread, that waits up to ``busy_timeout_ms`` for another process's write lock; WAL journal (readers
  never block the writer) and ``synchronous=NORMAL``.
* ``ThreadConnections``: one such connection per thread (and per process after a fork), all closed at once —
  safely while other threads still run statements on theirs; ``read()`` and ``write()`` blocks (a write
  queues on a per-store lock for the threads of this process, then on SQLite's busy timeout for other
  processes). A file is required: ``:memory:`` would give each thread its own database.
* ``immediate``: a ``BEGIN IMMEDIATE`` transaction, committed at the end of the block, rolled back on error.
* ``sqlite_errors``: any ``sqlite3`` error (locked past the busy timeout, disk I/O, not a database) becomes
  ``StoreUnavailable``.
"""

from __future__ import annotations

__all__ = ["ThreadConnections", "check_path", "connect", "immediate", "sqlite_errors"]

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from routing_agent.errors import StoreUnavailable


def connect(
    path: str | os.PathLike[str], busy_timeout_ms: float, *, wal: bool = True, require_wal: bool = False
) -> sqlite3.Connection:
    """Open ``path`` (see the module docstring); ``require_wal``: a file that refuses WAL is an error."""
    conn = sqlite3.connect(
        path,
        timeout=busy_timeout_ms / 1000,
        isolation_level=None,  # autocommit; transactions are explicit BEGIN IMMEDIATE … COMMIT
        check_same_thread=False,  # closed from close(), which may run on another thread
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    if wal:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if require_wal and (mode is None or str(mode[0]).lower() != "wal"):
            conn.close()
            raise StoreUnavailable(f"SQLite store {path}: WAL journal mode unavailable (got {mode!r})")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def check_path(path: str | os.PathLike[str], owner: str) -> Path:
    """``path`` as a ``Path`` (``~`` expanded); ``ValueError`` for an in-memory database name."""
    text = os.fspath(path)
    if text == ":memory:" or text.startswith("file::memory:") or "mode=memory" in text:
        raise ValueError(
            f"{owner} needs a file shared by threads and processes, not {text!r}; "
            "use the memory:// store for data private to this process"
        )
    return Path(text).expanduser()


class ThreadConnections:
    """One connection to ``path`` per thread (and per process after a fork); ``close()`` closes them all.

    Creating it creates the file's folder. ``owner`` names the store in the error raised after ``close()``.

    ``close()`` never closes a connection under a statement another thread is running on it: CPython's
    ``sqlite3`` does not guard that (``check_same_thread=False`` only lifts the check), and the process dies
    of a segmentation fault. It closes the calling thread's connection and those of finished threads; a live
    thread's connection loses its last reference with the thread-local map and is closed by its own
    deallocation, which cannot run while that thread is inside a call on it (the call holds a reference).
    """

    def __init__(self, path: Path, busy_timeout_ms: int, *, owner: str, require_wal: bool = False) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.owner = owner
        self.require_wal = require_wal
        self.label = f"{owner} {path}"
        self._local = threading.local()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._connections: list[tuple[threading.Thread, int, sqlite3.Connection]] = []
        self._closed = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the folder of SQLite store {path}: {exc}") from exc

    def _closed_error(self) -> StoreUnavailable:
        return StoreUnavailable(f"{self.label} is closed")

    def get(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use); ``StoreUnavailable`` once closed."""
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        if self._closed:
            raise self._closed_error()
        conn = connect(self.path, self.busy_timeout_ms, require_wal=self.require_wal)
        with self._lock:
            if self._closed:  # closed while this thread was connecting
                conn.close()
                raise self._closed_error()
            self._connections.append((threading.current_thread(), os.getpid(), conn))
        local.conn, local.pid = conn, os.getpid()
        return conn

    def read(self) -> AbstractContextManager[None]:
        """A block whose ``sqlite3`` errors become ``StoreUnavailable`` (use ``get()`` inside it)."""
        return sqlite_errors(self.label)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection in a ``BEGIN IMMEDIATE`` transaction (committed at the end of the block).

        Threads of this process queue on a lock instead of SQLite's busy handler: the handler polls, is not
        fair, and under many threads a writer could starve past ``busy_timeout_ms`` while the GIL slows every
        holder. Other processes still wait through the busy timeout. ``StoreUnavailable`` past it.
        """
        if not self._write_lock.acquire(timeout=self.busy_timeout_ms / 1000):
            raise StoreUnavailable(
                f"{self.label}: no write slot within {self.busy_timeout_ms} ms (threads queued)"
            )
        try:
            with sqlite_errors(self.label), immediate(self.get()) as conn:
                yield conn
        finally:
            self._write_lock.release()

    def close(self) -> None:
        """Close every connection opened so far (see the class docstring); later ``get()`` calls raise
        ``StoreUnavailable``."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
            self._local = threading.local()  # drops every thread's reference to its connection
        me, pid = threading.current_thread(), os.getpid()
        for thread, opened_in, conn in connections:
            if opened_in == pid and (thread is me or not thread.is_alive()):
                with contextlib.suppress(sqlite3.Error):
                    conn.close()


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A ``BEGIN IMMEDIATE`` transaction: committed when the block ends, rolled back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def sqlite_errors(label: str) -> Iterator[None]:
    """Re-raise any ``sqlite3.Error`` of the block as ``StoreUnavailable("<label>: <error>")``."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"{label}: {exc}") from exc
