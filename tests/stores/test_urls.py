"""One URL grammar for every store family: URLs, paths and stores in; the right backend, configured as the URL
says, out; an unknown scheme or option refused the same way by ``open_store``, ``open_observation_store`` and
``open_review_store``."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from routing_agent.errors import StoreUnavailable
from routing_agent.stores import open_observation_store, open_review_store, open_store
from routing_agent.stores.assignments import MemoryStore, RedisStore, SQLiteStore
from routing_agent.stores.observations import MemoryObservationStore, Observation
from routing_agent.stores.reviews import MemoryReviewStore, ReviewItem

OPENERS: dict[str, Callable[[Any], Any]] = {
    "assignments": open_store,
    "observations": open_observation_store,
    "reviews": open_review_store,
}
MEMORY = {"assignments": MemoryStore, "observations": MemoryObservationStore, "reviews": MemoryReviewStore}
DEFAULT_BUSY_MS = {"assignments": 2000, "observations": 5000, "reviews": 2000}


def write(family: str, store: Any) -> None:
    """One write of the family's store (takes SQLite's write lock)."""
    if family == "assignments":
        store.get_or_set("exp", "u", "a")
    elif family == "observations":
        store.add([Observation("exp", "control", "u", "m", 1.0)])
    else:
        store.submit(ReviewItem("exp:00000001", "exp", "b", {}, 1.0, "t", 1))


@pytest.mark.parametrize("family", OPENERS)
def test_none_and_memory_give_an_empty_memory_store_in_every_family(family: str) -> None:
    for target in (None, "memory://"):
        store = OPENERS[family](target)
        assert isinstance(store, MEMORY[family]), (family, target)
        store.close()


@pytest.mark.parametrize("family", OPENERS)
@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("memory://?bogus=1", "unknown option 'bogus'; memory:// understands no options"),
        ("sqlite:///x.db?bogus=1", "unknown option 'bogus'; sqlite:// understands busy_timeout_ms"),
        ("sqlite:///x.db?journal=delete", "unknown option 'journal'"),
        (
            "redis://127.0.0.1:1/0?bogus=1",
            "unknown option 'bogus'; redis:// understands async_timeout, cluster",
        ),
        ("sqlite:///x.db?busy_timeout_ms=soon", "busy_timeout_ms='soon'"),
        ("sqlite:///x.db?busy_timeout_ms=0", "must be a positive whole number"),
        ("redis://127.0.0.1:1/0?timeout=-1", "timeout='-1' must be a positive number"),
        ("redis://127.0.0.1:1/0?socket_timeout=5", "unknown option 'socket_timeout'"),  # timeout= sets it
        ("redis://127.0.0.1:1/0?cluster=maybe", "must be true or false"),
        ("postgres://localhost/db", "unknown store 'postgres://localhost/db'"),
        ("sqlite://somehost/a.db", "has a host"),
        ("sqlite:///", "names no file"),
        ("memory://somewhere", "nothing after it"),
    ],
)
def test_every_family_refuses_the_same_bad_urls(
    family: str, url: str, match: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=re.escape(match)):
        OPENERS[family](url)
    assert not (tmp_path / "x.db").exists()  # refused before anything was created


def test_passwords_never_appear_in_url_errors() -> None:
    with pytest.raises(ValueError) as info:
        open_observation_store("redis://user:s3cret@127.0.0.1:1/0?bogus=1")
    assert "s3cret" not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize("family", OPENERS)
def test_busy_timeout_ms_is_honoured_by_every_sqlite_store(family: str, tmp_path: Path) -> None:
    """A write waits for another process's write lock ``busy_timeout_ms`` — set above the family's default,
    so an ignored option would give up sooner — then fails as ``StoreUnavailable``. A lower bound only: a
    slow machine can only make the wait longer."""
    path = tmp_path / "busy.db"
    busy_ms = DEFAULT_BUSY_MS[family] + 1000
    store = OPENERS[family](f"sqlite:///{path}?busy_timeout_ms={busy_ms}")
    assert store.busy_timeout_ms == busy_ms
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            write(family, store)
        assert time.monotonic() - started > DEFAULT_BUSY_MS[family] / 1000 + 0.5
        blocker.execute("ROLLBACK")
        write(family, store)  # the lock is gone: the same store writes again
    finally:
        blocker.close()
        store.close()


def test_memory_and_none() -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    assert isinstance(open_store(None), MemoryStore)


def test_a_store_is_returned_as_is() -> None:
    store = MemoryStore()
    assert open_store(store) is store


def test_paths_and_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cases = {
        "plain.db": tmp_path / "plain.db",
        str(tmp_path / "abs.db"): tmp_path / "abs.db",
        "sqlite:///rel/url.db": tmp_path / "rel" / "url.db",
        f"sqlite:///{tmp_path}/abs-url.db": tmp_path / "abs-url.db",  # sqlite:////tmp/... (absolute)
    }
    for target, expected in cases.items():
        store = open_store(target)
        assert isinstance(store, SQLiteStore)
        assert store.path.resolve() == expected
        store.get_or_set("exp", "u", "a")
        assert expected.exists()
        store.close()
    store = open_store(tmp_path / "pathlib.db")
    assert isinstance(store, SQLiteStore) and store.path == tmp_path / "pathlib.db"
    store.close()
    store = open_store("sqlite:///busy.db?busy_timeout_ms=250")
    assert isinstance(store, SQLiteStore) and store.busy_timeout_ms == 250
    store.close()


def test_bad_urls_are_refused() -> None:
    with pytest.raises(TypeError):
        open_store(42)  # type: ignore[arg-type]


def test_redis_url_options(redis_url: str, redis_prefix: str) -> None:
    store = open_store(f"{redis_url}?prefix={redis_prefix}&timeout=0.2&health_check_interval=5")
    assert isinstance(store, RedisStore) and store.prefix == redis_prefix
    kwargs = store._sync().connection_pool.connection_kwargs  # type: ignore[union-attr]
    assert kwargs["socket_timeout"] == 0.2 and kwargs["socket_connect_timeout"] == 0.2
    assert kwargs["health_check_interval"] == 5  # redis-py's own query options pass through
    assert store.get_or_set("exp", "u", "a") == ("a", True)
    store.close()

    default = open_store(redis_url)
    assert isinstance(default, RedisStore) and default.prefix == "routing_agent"
    kwargs = default._sync().connection_pool.connection_kwargs  # type: ignore[union-attr]
    assert kwargs["socket_timeout"] == 0.05 and kwargs["socket_connect_timeout"] == 0.05
    default.close()

    overridden = open_store(f"{redis_url}?prefix=ignored", prefix=redis_prefix, timeout_s=1.5)
    assert isinstance(overridden, RedisStore) and overridden.prefix == redis_prefix
    assert overridden.get("exp", "u") == "a"  # same prefix, same data
    kwargs = overridden._sync().connection_pool.connection_kwargs  # type: ignore[union-attr]
    assert kwargs["socket_timeout"] == 1.5
    overridden.close()


def test_readme_stores_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README's "Stores" section: its Python example runs as written and opens what it says."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Stores and the scale path", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    scope: dict[str, Any] = {}
    exec(compile(code, "README.md#stores", "exec"), scope)
    try:
        assert isinstance(scope["assignments"], SQLiteStore) and scope["assignments"].busy_timeout_ms == 500
        write("reviews", scope["reviews"])
        assert scope["reviews"].items("exp")[0].winner == "b"
        assert (tmp_path / "state" / "routing.db").exists()
    finally:
        for name in ("assignments", "observations", "reviews"):
            scope[name].close()
