"""A local crash spool for observations: a SQLite WAL file per writer, replayed by the next writer.

``BufferedObservationWriter`` moves its in-memory buffer into a spool file every ``flush_interval_s`` and
forwards the spool to the store on a second thread, so a slow or dead store grows a file on local disk, not
the memory a SIGKILL wipes. **On by default** for a store that outlives the process (one with a
``spool_key()``: SQLite, Redis; not the in-memory store), in ``spool_folder(store)``:
``$ROUTING_AGENT_SPOOL_DIR/<store>``, else ``$XDG_STATE_HOME/routing-agent/spool/<store>`` (by default
``~/.local/state/…``), else ``<temp dir>/routing-agent-<uid>/spool/<store>`` — the first that is writable;
``<store>`` is a digest of the store's ``spool_key()``, so a writer only ever replays into the store the
dead writer wrote to. Opt out with ``spool_dir=False`` or ``ROUTING_AGENT_SPOOL_DIR=off``; no writable folder
means no spool (one warning). The spool commits in WAL
mode with ``synchronous=NORMAL``: a committed batch survives the death of the process (not of the machine's
power). **The loss a SIGKILL can cause is what arrived during the last ``flush_interval_s`` (0.25 s by
default) and was not yet spooled** — whatever the store was doing at the time.

Each writer holds an exclusive ``flock`` on its own file (``obs-<pid>-<token>.spool``); a writer starting on
the same folder adopts every file nobody holds (its process died) and forwards it first. Replay is at least
once: a batch the store acknowledged just before the kill, still in the spool, is sent again (observations
with an ``id`` are kept once by every store; others would count twice — a window of one store round-trip).
"""

from __future__ import annotations

__all__ = ["SPOOL_DIR_ENV", "SPOOL_OFF", "Spool", "spool_folders"]

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import sqlite3
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from routing_agent.stores.observations.observation import Observation

SPOOL_DIR_ENV = "ROUTING_AGENT_SPOOL_DIR"
"""Environment variable: the spool base folder of writers built without ``spool_dir`` (``off``: none)."""
SPOOL_OFF = frozenset({"off", "0", "false", "no", "none"})
"""Values of ``ROUTING_AGENT_SPOOL_DIR`` that turn the default spool off."""


def spool_folders(store: Any) -> list[Path]:
    """The default spool folders for ``store``, best first; empty when the store has no ``spool_key()`` (it
    lives in this process) or ``ROUTING_AGENT_SPOOL_DIR`` turns the spool off."""
    key = getattr(store, "spool_key", None)
    name = key() if callable(key) else None
    if not name:
        return []
    leaf = hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    configured = os.environ.get(SPOOL_DIR_ENV, "").strip()
    if configured.lower() in SPOOL_OFF:
        return []
    if configured:
        return [Path(configured).expanduser() / leaf]
    folders = []
    home = os.path.expanduser("~")
    state = os.environ.get("XDG_STATE_HOME") or (os.path.join(home, ".local", "state") if home != "~" else "")
    if os.path.isabs(state):
        folders.append(Path(state) / "routing-agent" / "spool" / leaf)
    folders.append(Path(tempfile.gettempdir()) / f"routing-agent-{os.getuid()}" / "spool" / leaf)
    return folders


_SCHEMA = "CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)"


class Spool:
    """One spool file, held under an exclusive lock for the life of this object."""

    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path = path
        self._lock_fd = lock_fd
        self._mutex = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    @classmethod
    def create(cls, folder: str | os.PathLike[str]) -> Spool:
        """A new spool file of this process in ``folder`` (created if needed)."""
        base = Path(folder)
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        if base.stat().st_uid != os.getuid():  # e.g. planted in a shared temp folder by another user
            raise PermissionError(f"the spool folder {base} belongs to another user")
        path = base / f"obs-{os.getpid()}-{secrets.token_hex(4)}.spool"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return cls(path, fd)

    @classmethod
    def orphans(cls, folder: str | os.PathLike[str]) -> list[Spool]:
        """Spool files in ``folder`` that no live writer holds (their process died), now held by us."""
        base = Path(folder)
        if not base.is_dir():
            return []
        found = []
        for path in sorted(base.glob("obs-*.spool")):
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # a live writer holds it
                os.close(fd)
                continue
            try:
                found.append(cls(path, fd))
            except sqlite3.Error:
                os.close(fd)
        return found

    def append(self, batch: Sequence[Observation]) -> None:
        """Commit ``batch`` to the file (one transaction)."""
        rows = [(json.dumps(o.to_json(), allow_nan=False),) for o in batch]
        with self._mutex:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO spool (body) VALUES (?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def peek(self, limit: int) -> tuple[int, list[Observation]]:
        """The oldest ``limit`` observations and the last sequence number among them (0: none)."""
        with self._mutex:
            rows = self._db.execute("SELECT seq, body FROM spool ORDER BY seq LIMIT ?", (limit,)).fetchall()
        if not rows:
            return 0, []
        return int(rows[-1][0]), [Observation.from_json(json.loads(body)) for _, body in rows]

    def remove_through(self, seq: int) -> None:
        """Forget every observation up to ``seq`` (the store has them)."""
        with self._mutex:
            self._db.execute("DELETE FROM spool WHERE seq <= ?", (seq,))

    def count(self) -> int:
        """Observations waiting in the file."""
        with self._mutex:
            return int(self._db.execute("SELECT count(*) FROM spool").fetchone()[0])

    def close(self, *, delete: bool = False) -> None:
        """Close the file (and remove it when ``delete`` and it is empty), then release the lock."""
        with self._mutex:
            empty = int(self._db.execute("SELECT count(*) FROM spool").fetchone()[0]) == 0
            self._db.close()
        if delete and empty:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self.path}{suffix}")
        os.close(self._lock_fd)
