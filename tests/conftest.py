"""Shared fixtures. Redis is a real server ($REDIS_URL or one started here): never mocked, never skipped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from routing_agent.stores.observations.spool import SPOOL_DIR_ENV
from tests.support.redis_cluster import RedisCluster3
from tests.support.redis_server import shared_redis_url


@pytest.fixture(autouse=True)
def _private_spool_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Observation writers spool by default: each test (and the workers it starts) gets its own base folder,
    so no test replays another's spooled observations and nothing lands in ~/.local/state."""
    monkeypatch.setenv(SPOOL_DIR_ENV, str(tmp_path_factory.mktemp("spool")))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis server shared by the session (``$REDIS_URL`` or a private redis-server)."""
    url, server = shared_redis_url()
    try:
        yield url
    finally:
        if server is not None:
            server.stop()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to one test; its keys are deleted afterwards."""
    prefix = f"ra-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster3]:
    """A real 3-primary Redis Cluster for this test session (a failure to start fails the tests)."""
    cluster = RedisCluster3().start()
    try:
        yield cluster
    finally:
        cluster.stop()
