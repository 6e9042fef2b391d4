"""``open_store``: URLs, paths and stores in; the right backend, configured as the URL says, out."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing_agent.stores.assignments import MemoryStore, RedisStore, SQLiteStore, open_store


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
    with pytest.raises(ValueError, match="unknown assignment store"):
        open_store("postgres://localhost/db")
    with pytest.raises(ValueError, match="host"):
        open_store("sqlite://somehost/a.db")
    with pytest.raises(ValueError, match="no file"):
        open_store("sqlite:///")
    with pytest.raises(ValueError, match="unknown options"):
        open_store("sqlite:///a.db?journal=delete")
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
