"""Observation-store conformance harness: every backend (memory, SQLite file, real Redis) runs the same tests.

A backend registers a factory yielding ``(store, reopen)``: the store under test and a callable opening a
second handle on the same data (None for single-process backends). A backend that cannot start fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from routing_agent.stores.observations import MemoryObservationStore, ObservationCapability, ObservationStore
from routing_agent.stores.observations.redis import RedisObservationStore
from routing_agent.stores.observations.sqlite import SQLiteObservationStore

C = ObservationCapability


@dataclass
class Harness:
    name: str
    store: ObservationStore
    reopen: Callable[[], ObservationStore] | None
    url: str | None  # what open_observation_store accepts for this data (None: not shareable)


Factory = Callable[[pytest.FixtureRequest, Path], Iterator[Harness]]
BACKENDS: dict[str, tuple[frozenset[ObservationCapability], Factory]] = {}


def backend(name: str, *caps: ObservationCapability) -> Callable[[Factory], Factory]:
    def register(factory: Factory) -> Factory:
        BACKENDS[name] = (frozenset(caps), factory)
        return factory

    return register


@backend("memory", C.RAW_ROWS)
def _memory(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Harness]:
    store = MemoryObservationStore()
    yield Harness("memory", store, None, None)
    store.close()


@backend("sqlite", C.RAW_ROWS, C.MULTI_PROCESS)
def _sqlite(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Harness]:
    path = tmp / "obs.db"
    opened: list[Any] = []

    def reopen() -> ObservationStore:
        opened.append(SQLiteObservationStore(path))
        return opened[-1]

    store = SQLiteObservationStore(path)
    yield Harness("sqlite", store, reopen, f"sqlite:///{path}")
    for s in [store, *opened]:
        s.close()


@backend("redis", C.MULTI_PROCESS, C.MULTI_HOST, C.SERVER_SIDE)
def _redis(request: pytest.FixtureRequest, tmp: Path) -> Iterator[Harness]:
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    opened: list[Any] = []

    def reopen() -> ObservationStore:
        opened.append(RedisObservationStore.from_url(url, prefix=prefix))
        return opened[-1]

    store = RedisObservationStore.from_url(url, prefix=prefix)
    assert store._client.ping()
    yield Harness("redis", store, reopen, f"{url}?prefix={prefix}")
    for s in [store, *opened]:
        s.close()


def backends_for(needed: set[str]) -> list[str]:
    return [name for name, (caps, _) in BACKENDS.items() if needed <= {c.value for c in caps}]
