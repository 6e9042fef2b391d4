"""A real 3-primary Redis Cluster (the helper of the assignment tests) for the scale-out tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_cluster import RedisCluster3


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisCluster3]:
    """Three cluster-enabled redis-servers joined on loopback; a failure to start fails the tests."""
    nodes = RedisCluster3().start()
    try:
        yield nodes
    finally:
        nodes.stop()
