"""Fixtures of the assignment tests: ``harness`` runs a conformance test once per capable store backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.assignment.conformance import Harness, backends_for, open_harness
from tests.assignment.redis_cluster import RedisCluster3
from tests.support.conformance import parametrize_harness


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requires(*capabilities): store capabilities a conformance test needs")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_harness(metafunc, "requires", backends_for)


@pytest.fixture
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """The store backend named by the test's parameter, set up and torn down by its registered factory."""
    yield from open_harness(request.param, request)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster3]:
    """A real 3-primary Redis Cluster for this test session (a failure to start fails the tests)."""
    cluster = RedisCluster3().start()
    try:
        yield cluster
    finally:
        cluster.stop()
