"""The one store conformance harness, in the style of LangGraph's checkpointer conformance suite.

A backend registers a factory with ``@backend(name, {family: capabilities})``: a generator that yields a
``Place`` — where one test's data lives (a temporary SQLite file, a fresh Redis key prefix, …) and how to
open any family's store on it — and tears everything down afterwards. The three families' suites
(``test_assignments``, ``test_observations``, ``test_reviews``) run every test against every registered
backend whose declared capabilities for that family cover the test's ``@requires(...)``.

Registered: memory, SQLite (a temporary file), Redis (the real server of the ``redis_url`` fixture) and
Redis Cluster (three real cluster-enabled redis-servers, ``redis_cluster`` fixture). A backend that cannot
start is a failure, never a skip. Every store is opened through the family's URL opener (``open_store``,
``open_observation_store``, ``open_review_store``), so the URL grammar is exercised too.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from routing_agent.stores import Capability
from routing_agent.stores.assignments import AssignmentStore, MemoryStore, open_store
from routing_agent.stores.observations import MemoryObservationStore, ObservationStore, open_observation_store
from routing_agent.stores.reviews import MemoryReviewStore, ReviewStore, open_review_store

C = Capability
FAMILIES = ("assignments", "observations", "reviews")


@dataclass(frozen=True)
class StoreSpec:
    """What another OS process passes to ``open_store`` to reach the same data (picklable)."""

    target: str
    prefix: str | None = None
    timeout_s: float | None = None

    def open(self) -> AssignmentStore:
        return open_store(self.target, prefix=self.prefix, timeout_s=self.timeout_s)


_OPENERS: dict[str, Callable[[str], Any]] = {
    "assignments": open_store,
    "observations": open_observation_store,
    "reviews": open_review_store,
}
_MEMORY: dict[str, Callable[[], Any]] = {
    "assignments": MemoryStore,
    "observations": MemoryObservationStore,
    "reviews": MemoryReviewStore,
}


@dataclass
class Place:
    """Where one test's data lives on one backend; opens any family's store there (or in a sibling place)."""

    backend: str
    url: str | None  # what every family's opener accepts for this data (None: memory, not shareable)
    sibling_url: Callable[[], str] | None  # a separate namespace of the same backend
    spec: StoreSpec | None  # for other OS processes
    opened: list[Any] = field(default_factory=list)

    def open(self, family: str) -> Any:
        store = _MEMORY[family]() if self.url is None else _OPENERS[family](self.url)
        self.opened.append(store)
        return store

    def open_sibling(self, family: str) -> Any:
        store = _MEMORY[family]() if self.sibling_url is None else _OPENERS[family](self.sibling_url())
        self.opened.append(store)
        return store

    def close(self) -> None:
        for store in reversed(self.opened):
            with contextlib.suppress(Exception):
                store.close()


@dataclass
class Harness:
    """One backend under test for one family: the store, a second handle, a sibling namespace."""

    name: str
    family: str
    capabilities: frozenset[Capability]  # what the backend declares for this family (harness registry)
    place: Place

    def __post_init__(self) -> None:
        self.store: Any = self.place.open(self.family)

    @property
    def spec(self) -> StoreSpec | None:
        return self.place.spec

    @property
    def url(self) -> str | None:
        return self.place.url

    @property
    def reopen(self) -> Callable[[], Any] | None:
        """Another handle (connection/client) on the same data; None for single-process backends."""
        if self.place.url is None:
            return None
        return lambda: self.place.open(self.family)

    def open_again(self) -> Any:
        assert self.place.url is not None, f"{self.name} declares no second handle"
        return self.place.open(self.family)

    def open_sibling(self) -> Any:
        return self.place.open_sibling(self.family)

    async def aclose(self) -> None:
        """Close async clients bound to the running event loop (async tests call this last)."""
        for store in self.place.opened:
            aclose = getattr(store, "aclose", None)
            if aclose is not None:
                await aclose()


Factory = Callable[[pytest.FixtureRequest], Iterator[Place]]


@dataclass(frozen=True)
class Backend:
    name: str
    capabilities: Mapping[str, frozenset[Capability]]  # family -> declared capabilities
    factory: Factory


BACKENDS: dict[str, Backend] = {}


def backend(name: str, capabilities: Mapping[str, set[Capability]]) -> Callable[[Factory], Factory]:
    """Register a backend factory (a generator yielding a ``Place``) under ``name``."""

    def register(factory: Factory) -> Factory:
        BACKENDS[name] = Backend(name, {f: frozenset(c) for f, c in capabilities.items()}, factory)
        return factory

    return register


def requires(*capabilities: Capability) -> Any:
    """Mark a conformance test as needing these capabilities; backends without them do not get the test."""
    return pytest.mark.requires(*capabilities)


def backends_for(family: str, needed: set[Capability]) -> list[str]:
    return [
        name for name, b in BACKENDS.items() if family in b.capabilities and needed <= b.capabilities[family]
    ]


def parametrize(metafunc: pytest.Metafunc, family: str) -> None:
    """Run a test that takes ``harness`` once per backend declaring every capability its marker names.

    A test whose needs no backend meets fails at collection instead of silently running nowhere.
    """
    if "harness" not in metafunc.fixturenames:
        return
    found = metafunc.definition.get_closest_marker("requires")
    needed = {Capability(c) for c in found.args} if found is not None else set()
    names = backends_for(family, needed)
    assert names, f"no {family} backend declares {needed}"
    metafunc.parametrize("harness", names, indirect=True)


def open_place(name: str, request: pytest.FixtureRequest) -> Iterator[Place]:
    """The backend's place for one test, torn down after it."""
    for place in BACKENDS[name].factory(request):
        try:
            yield place
        finally:
            place.close()


def open_harness(name: str, family: str, request: pytest.FixtureRequest) -> Iterator[Harness]:
    """One family's harness on the backend ``name`` (closed after the test)."""
    for place in open_place(name, request):
        yield Harness(name, family, BACKENDS[name].capabilities[family], place)


# -- the backends ------------------------------------------------------------------------------------------


@backend(
    "memory",
    {"assignments": {C.TTL}, "observations": {C.RAW_ROWS}, "reviews": set()},
)
def memory_backend(request: pytest.FixtureRequest) -> Iterator[Place]:
    yield Place("memory", None, None, None)


@backend(
    "sqlite",
    {
        "assignments": {C.TTL, C.MULTI_PROCESS},
        "observations": {C.RAW_ROWS, C.MULTI_PROCESS},
        "reviews": {C.MULTI_PROCESS},
    },
)
def sqlite_backend(request: pytest.FixtureRequest) -> Iterator[Place]:
    tmp = request.getfixturevalue("tmp_path")
    path = tmp / "store.db"
    counter = iter(range(1_000_000))
    yield Place(
        "sqlite", f"sqlite:///{path}", lambda: str(tmp / f"sibling-{next(counter)}.db"), StoreSpec(str(path))
    )


TIMEOUT_S = 10
"""Client timeout of the Redis harness stores: the suite checks behaviour, not speed, and 8 racing processes
plus the parallel test workers can keep a 2-core box busy past the production timeouts (and past 2 s)."""

_REDIS = {
    "assignments": {C.TTL, C.MULTI_PROCESS, C.MULTI_HOST},
    "observations": {C.MULTI_PROCESS, C.MULTI_HOST, C.SERVER_SIDE},
    "reviews": {C.MULTI_PROCESS, C.MULTI_HOST},
}


@backend("redis", _REDIS)
def redis_backend(request: pytest.FixtureRequest) -> Iterator[Place]:
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    counter = iter(range(1_000_000))
    yield Place(
        "redis",
        f"{url}?prefix={prefix}&timeout={TIMEOUT_S}",
        lambda: f"{url}?prefix={prefix}-sibling{next(counter)}&timeout={TIMEOUT_S}",
        StoreSpec(url, prefix=prefix, timeout_s=TIMEOUT_S),
    )


@backend("redis-cluster", _REDIS)
def redis_cluster_backend(request: pytest.FixtureRequest) -> Iterator[Place]:
    cluster = request.getfixturevalue("redis_cluster")
    prefix = f"ra-cl-{uuid.uuid4().hex[:12]}"
    url = f"{cluster.url}?cluster=true"
    counter = iter(range(1_000_000))
    try:
        yield Place(
            "redis-cluster",
            f"{url}&prefix={prefix}&timeout={TIMEOUT_S}",
            lambda: f"{url}&prefix={prefix}-sibling{next(counter)}&timeout={TIMEOUT_S}",
            StoreSpec(url, prefix=prefix, timeout_s=TIMEOUT_S),
        )
    finally:
        for port in cluster.ports:  # delete this test's keys on every primary
            node = redis.Redis(port=port)
            keys = list(node.scan_iter(match=f"{prefix}*", count=1000))
            for key in keys:
                node.delete(key)
            node.close()


def declared(store: AssignmentStore | ObservationStore | ReviewStore) -> frozenset[Capability]:
    """What a store instance declares (checked against the harness registry by every family's suite)."""
    return frozenset(store.capabilities)
