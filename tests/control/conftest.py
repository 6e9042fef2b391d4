"""Fixtures of the control tests: each backend (memory, SQLite file, real Redis) as a store + review store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from routing_agent.stores.assignments import AssignmentStore
from routing_agent.stores.reviews import ReviewStore, review_store_for
from tests.stores.harness import Harness, StoreSpec, open_harness

BACKENDS = ("memory", "sqlite", "redis")
SHARED = ("sqlite", "redis")  # several OS processes


@dataclass
class Backend:
    """One backend under test: the assignment store, the review store beside it, and how to reach both."""

    name: str
    harness: Harness
    store: AssignmentStore
    reviews: ReviewStore

    @property
    def spec(self) -> StoreSpec:
        assert self.harness.spec is not None, f"{self.name} is not shared between processes"
        return self.harness.spec

    @property
    def url(self) -> str:
        """The URL a CLI user would pass to reach the same data (shared backends only)."""
        spec = self.spec
        return f"{spec.target}?prefix={spec.prefix}" if spec.prefix else spec.target

    def open_again(self) -> tuple[AssignmentStore, ReviewStore]:
        """A second handle on the same data (another connection / client), as another worker would have."""
        store = self.harness.open_again()
        return store, review_store_for(store)


def _open(name: str, request: pytest.FixtureRequest) -> Iterator[Backend]:
    for harness in open_harness(name, "assignments", request):
        reviews = review_store_for(harness.store)
        try:
            yield Backend(name, harness, harness.store, reviews)
        finally:
            reviews.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Every backend: memory, SQLite (a temporary file) and the real Redis server."""
    yield from _open(request.param, request)


@pytest.fixture(params=SHARED)
def shared_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Backends several OS processes share: SQLite and the real Redis server."""
    yield from _open(request.param, request)
