"""Fixtures of the dashboard tests: the store URLs of one backend (SQLite, Redis, Redis Cluster)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(assignment store URL, observation store URL) on one backend, private to the test."""
    if request.param == "sqlite":
        yield str(tmp_path / "state.db"), str(tmp_path / "obs.db")
    elif request.param == "redis":
        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        yield f"{url}?prefix={prefix}&timeout=10", f"{url}?prefix={prefix}-obs&timeout=10"
    else:
        cluster = request.getfixturevalue("redis_cluster")
        prefix = f"ra-dash-{os.getpid()}-{time.monotonic_ns()}"
        yield (
            f"{cluster.url}?cluster=true&prefix={prefix}&timeout=10",
            f"{cluster.url}?cluster=true&prefix={prefix}-obs&timeout=10",
        )
