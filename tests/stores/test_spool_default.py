"""The observation spool is on by default, in one folder per store, with a documented opt-out.

A writer in front of a store that outlives the process (SQLite, Redis) commits its buffer to a local SQLite
WAL file; the folder is ``$ROUTING_AGENT_SPOOL_DIR/<store>``, else ``$XDG_STATE_HOME/routing-agent/spool/
<store>``, else under the temp folder. An in-memory store has nothing to replay into: no spool. The crash
bound itself is shown by tests/faults/test_worker_sigkill.py.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from routing_agent.stores.observations import BufferedObservationWriter, MemoryObservationStore, Observation
from routing_agent.stores.observations.redis import RedisObservationStore
from routing_agent.stores.observations.spool import SPOOL_DIR_ENV
from routing_agent.stores.observations.sqlite import SQLiteObservationStore


def obs(i: int) -> Observation:
    return Observation("e", "control", f"u{i}", "m", 1.0, id=f"o{i}")


def test_a_sqlite_store_spools_by_default_in_its_own_folder(tmp_path: Path) -> None:
    base = tmp_path / "base"
    stores = [SQLiteObservationStore(tmp_path / name) for name in ("a.sqlite", "b.sqlite")]
    with pytest.MonkeyPatch.context() as env:
        env.setenv(SPOOL_DIR_ENV, str(base))
        writers = [BufferedObservationWriter(store, flush_interval_s=0.01) for store in stores]
    folders = [w.spool_dir for w in writers]
    assert folders[0] is not None and folders[1] is not None and folders[0] != folders[1]
    assert {f.parent for f in folders if f is not None} == {base}
    for i, writer in enumerate(writers):
        writer.add_many([obs(i), obs(i + 10)])
        assert writer.flush(10)
        assert writer.stats()["spooled"] == 0 and writer.stats()["written"] == 2
        writer.close()
    assert [len(list(s.observations("e"))) for s in stores] == [2, 2]
    assert not list(base.rglob("obs-*.spool"))  # emptied files are removed at close


DIE = (
    "import os, signal, sys\n"
    "from routing_agent.stores.observations import Observation\n"
    "from routing_agent.stores.observations.spool import Spool\n"
    "spool = Spool.create(sys.argv[1])\n"
    "spool.append([Observation('e', 'control', f'u{i}', 'm', 1.0, id=f'o{i}') for i in range(3)])\n"
    "os.kill(os.getpid(), signal.SIGKILL)\n"
)


def _die_with_three_spooled(folder: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", DIE, str(folder)], check=False, timeout=120)
    assert proc.returncode == -signal.SIGKILL


def test_an_orphan_is_replayed_only_into_the_store_it_was_meant_for(tmp_path: Path) -> None:
    a, b = SQLiteObservationStore(tmp_path / "a.sqlite"), SQLiteObservationStore(tmp_path / "b.sqlite")
    probe = BufferedObservationWriter(a)
    folder = probe.spool_dir
    probe.close()
    assert folder is not None
    _die_with_three_spooled(folder)  # a writer of store a, SIGKILLed
    other = BufferedObservationWriter(b)  # store b's writer looks in b's folder only
    assert other.stats()["replayed"] == 0
    other.close()
    replay = BufferedObservationWriter(a)
    assert replay.stats()["replayed"] == 3 and replay.flush(10)
    replay.close()
    assert ({o.id for o in a.observations("e")}, list(b.observations("e"))) == ({"o0", "o1", "o2"}, [])


def test_the_spool_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SQLiteObservationStore(tmp_path / "a.sqlite")
    off = BufferedObservationWriter(store, spool_dir=False)
    assert off.spool_dir is None and "spooled" not in off.stats()
    off.close()
    monkeypatch.setenv(SPOOL_DIR_ENV, "off")
    by_env = BufferedObservationWriter(store)
    assert by_env.spool_dir is None
    by_env.add(obs(1))
    assert by_env.flush(10) and by_env.stats()["written"] == 1
    by_env.close()


def test_an_in_memory_store_gets_no_spool() -> None:
    writer = BufferedObservationWriter(MemoryObservationStore())
    assert writer.spool_dir is None and "spooled" not in writer.stats()
    writer.close()


def test_the_default_folder_follows_xdg_then_falls_back_to_the_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteObservationStore(tmp_path / "a.sqlite")
    monkeypatch.delenv(SPOOL_DIR_ENV)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    writer = BufferedObservationWriter(store)
    assert writer.spool_dir is not None
    assert writer.spool_dir.parent == tmp_path / "state" / "routing-agent" / "spool"
    writer.close()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))  # not writable as a folder: the next candidate
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    fallback = BufferedObservationWriter(store)
    assert fallback.spool_dir is not None and (tmp_path / "tmp") in fallback.spool_dir.parents
    fallback.close()
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))  # nothing writable: no spool, one warning
    with caplog.at_level(logging.WARNING, "routing_agent.observations"):
        none = BufferedObservationWriter(store)
    assert none.spool_dir is None and "observation spool disabled" in caplog.text
    none.add(obs(1))
    assert none.flush(10)
    none.close()


def test_a_redis_store_names_server_database_and_prefix_never_the_password(redis_url: str) -> None:
    url = redis_url.replace("redis://", "redis://:s3cret@", 1) if "@" not in redis_url else redis_url
    store = RedisObservationStore.from_url(url, prefix="p1", password="s3cret-pw")
    key = store.spool_key()
    assert key.startswith("redis:") and key.endswith("/p1") and "s3cret" not in key
    assert RedisObservationStore.from_url(redis_url, prefix="p2").spool_key() != key
    store.close()


EXIT_WITHOUT_CLOSE = (
    "import sys\n"
    "from routing_agent.stores.observations import BufferedObservationWriter, Observation\n"
    "from routing_agent.stores.observations.sqlite import SQLiteObservationStore\n"
    "writer = BufferedObservationWriter(SQLiteObservationStore(sys.argv[1]))\n"
    "writer.add(Observation('e', 'control', 'u', 'm', 1.0, id='at-exit'))\n"
)


def test_a_process_that_exits_without_close_writes_and_leaves_no_spool_file(tmp_path: Path) -> None:
    store_file = tmp_path / "a.sqlite"
    program = [sys.executable, "-c", EXIT_WITHOUT_CLOSE, str(store_file)]
    proc = subprocess.run(program, check=False, timeout=120)
    assert proc.returncode == 0
    assert [o.id for o in SQLiteObservationStore(store_file).observations("e")] == ["at-exit"]
    base = Path(os.environ[SPOOL_DIR_ENV])  # this test's private base folder (tests/conftest.py)
    assert not list(base.rglob("obs-*.spool*"))
