"""The assignment-store conformance harness, in the style of LangGraph's checkpointer conformance suite.

A backend registers a factory with ``@backend(name, capabilities...)``: a generator that yields a ``Harness``
(the store under test, how to open a second handle on the same data, a sibling namespace, and a spec another
OS process can open) and tears everything down afterwards. ``tests/assignment/test_conformance.py`` runs every
test against every registered backend whose declared capabilities cover the test's ``@requires(...)``.

Registered here: memory, SQLite (a temporary file), Redis (the real server of the ``redis_url`` fixture) and
Redis Cluster (three real cluster-enabled redis-servers, ``redis_cluster`` fixture). A backend that cannot
start is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from routing_agent.stores.assignments import AssignmentStore, Capability, MemoryStore, SQLiteStore, open_store
from routing_agent.stores.assignments.redis import RedisStore


@dataclass(frozen=True)
class StoreSpec:
    """What another OS process passes to ``open_store`` to reach the same data (picklable)."""

    target: str
    prefix: str | None = None
    timeout_s: float | None = None

    def open(self) -> AssignmentStore:
        return open_store(self.target, prefix=self.prefix, timeout_s=self.timeout_s)


@dataclass
class Harness:
    """One backend under test."""

    name: str
    capabilities: frozenset[Capability]
    store: AssignmentStore
    reopen: Callable[[], AssignmentStore] | None  # another handle (connection/client) on the same data
    sibling: Callable[[], AssignmentStore]  # the same kind of store in a separate namespace
    spec: StoreSpec | None  # for other OS processes (MULTI_PROCESS backends)
    _opened: list[AssignmentStore] = field(default_factory=list)

    def track(self, store: AssignmentStore) -> AssignmentStore:
        self._opened.append(store)
        return store

    def open_again(self) -> AssignmentStore:
        assert self.reopen is not None, f"{self.name} declares no second handle"
        return self.track(self.reopen())

    def open_sibling(self) -> AssignmentStore:
        return self.track(self.sibling())

    async def aclose(self) -> None:
        """Close async clients bound to the running event loop (async tests call this last)."""
        for store in [self.store, *self._opened]:
            aclose = getattr(store, "aclose", None)
            if aclose is not None:
                await aclose()

    def close(self) -> None:
        for store in [*self._opened, self.store]:
            with contextlib.suppress(Exception):
                store.close()


Factory = Callable[[pytest.FixtureRequest], Iterator[Harness]]


@dataclass(frozen=True)
class Backend:
    name: str
    capabilities: frozenset[Capability]
    factory: Factory


BACKENDS: dict[str, Backend] = {}


def backend(name: str, *capabilities: Capability) -> Callable[[Factory], Factory]:
    """Register a backend factory (a generator yielding a ``Harness``) under ``name``."""

    def register(factory: Factory) -> Factory:
        BACKENDS[name] = Backend(name, frozenset(capabilities), factory)
        return factory

    return register


def requires(*capabilities: Capability) -> Any:
    """Mark a conformance test as needing these capabilities; backends without them do not get the test."""
    return pytest.mark.requires(*capabilities)


def backends_for(needed: set[Capability]) -> list[str]:
    return [name for name, b in BACKENDS.items() if needed <= b.capabilities]


# -- the three backends ------------------------------------------------------------------------------------


@backend("memory", Capability.TTL)
def memory_backend(request: pytest.FixtureRequest) -> Iterator[Harness]:
    store = MemoryStore()
    harness = Harness("memory", MemoryStore.capabilities, store, None, MemoryStore, None)
    yield harness
    harness.close()


@backend("sqlite", Capability.TTL, Capability.MULTI_PROCESS)
def sqlite_backend(request: pytest.FixtureRequest) -> Iterator[Harness]:
    tmp: Path = request.getfixturevalue("tmp_path")
    path = tmp / "assignments.db"
    counter = iter(range(1_000_000))
    harness = Harness(
        "sqlite",
        SQLiteStore.capabilities,
        SQLiteStore(path),
        lambda: SQLiteStore(path),
        lambda: SQLiteStore(tmp / f"sibling-{next(counter)}.db"),
        StoreSpec(str(path)),
    )
    yield harness
    harness.close()


@backend("redis", Capability.TTL, Capability.MULTI_PROCESS, Capability.MULTI_HOST)
def redis_backend(request: pytest.FixtureRequest) -> Iterator[Harness]:
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    counter = iter(range(1_000_000))
    # Timeouts of 2 s: this suite checks behaviour, and the CI box runs tests in parallel on 2 cores.
    harness = Harness(
        "redis",
        RedisStore.capabilities,
        RedisStore.from_url(url, prefix=prefix, timeout_s=2.0),
        lambda: RedisStore.from_url(url, prefix=prefix, timeout_s=2.0),
        lambda: RedisStore.from_url(url, prefix=f"{prefix}-sibling{next(counter)}", timeout_s=2.0),
        StoreSpec(url, prefix=prefix, timeout_s=2.0),
    )
    yield harness
    harness.close()


@backend("redis-cluster", Capability.TTL, Capability.MULTI_PROCESS, Capability.MULTI_HOST)
def redis_cluster_backend(request: pytest.FixtureRequest) -> Iterator[Harness]:
    cluster = request.getfixturevalue("redis_cluster")
    prefix = f"ra-cl-{uuid.uuid4().hex[:12]}"
    url = f"{cluster.url}?cluster=true"
    counter = iter(range(1_000_000))
    harness = Harness(
        "redis-cluster",
        RedisStore.capabilities,
        open_store(url, prefix=prefix, timeout_s=2.0),
        lambda: open_store(url, prefix=prefix, timeout_s=2.0),
        lambda: open_store(url, prefix=f"{prefix}-sibling{next(counter)}", timeout_s=2.0),
        StoreSpec(url, prefix=prefix, timeout_s=2.0),
    )
    yield harness
    harness.close()
    for port in cluster.ports:  # delete this test's keys on every primary
        node = redis.Redis(port=port)
        keys = list(node.scan_iter(match=f"{prefix}*", count=1000))
        for key in keys:
            node.delete(key)
        node.close()


def open_harness(name: str, request: pytest.FixtureRequest) -> Iterator[Harness]:
    return BACKENDS[name].factory(request)
