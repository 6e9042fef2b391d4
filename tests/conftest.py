"""Shared fixtures. Redis is a real server ($REDIS_URL or one started here): never mocked, never skipped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck, settings

from routing_agent.stores.observations.spool import SPOOL_DIR_ENV
from tests.support.redis_cluster import RedisCluster3
from tests.support.redis_server import shared_redis_url

# Property tests hold for every input, however slow the machine: Hypothesis's per-example deadline (200 ms)
# and its "data generation is too slow" health check measure machine speed and can fail on a busy CI box.
# ``@settings(...)`` on a test still overrides the rest; the examples stay random (a failure is a real bug,
# reproduced from the printed blob).
settings.register_profile(
    "routing-agent", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("routing-agent")

# The longest tests (minutes of CPU: Monte Carlo calibrations, thousand-session simulations) start first, so
# the pytest-xdist workers do not end on one of them while the other idles; the e2e tests start last, when
# the MLflow server's virtualenv, which scripts/test.sh starts making at once, is ready.
LONG_FIRST = (
    "tests/evaluation/test_decision_calibration.py",
    "tests/workflows/test_worked_example_scenario.py",
    "tests/workflows/test_quality.py",
    "tests/evaluation/test_acceptance.py",
    "tests/stats/test_calibration.py",
    "tests/evaluation/test_guardrail_calibration.py",
    "tests/evaluation/test_worked_example.py",
    "tests/dashboard/test_browser.py",
    "tests/dashboard/test_demo_screenshot.py",
)
E2E_LAST = "tests/e2e/"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first, e2e last, the rest in collection order (a stable sort)."""
    items.sort(
        key=lambda item: (
            0 if item.nodeid.startswith(LONG_FIRST) else 2 if item.nodeid.startswith(E2E_LAST) else 1
        )
    )


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
