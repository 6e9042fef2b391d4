"""Fixtures of the app-shape matrix: a routing node on a real Redis store (state refresh 0, so a rollback is
seen by the very next call) and the real OTel SDK capturing spans and observations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from routing_agent import RoutingNode
from routing_agent.control import Rollout
from routing_agent.testing import CapturedTelemetry, capture_telemetry
from tests.app_shapes.support import EXPERIMENT, experiments


@pytest.fixture
def store_url(redis_url: str, redis_prefix: str) -> str:
    """A real Redis assignment store private to the test."""
    # generous timeouts: these tests check routing, not latency (a loaded CI machine answers late)
    return f"{redis_url}?prefix={redis_prefix}&timeout=5&async_timeout=5"


@pytest.fixture
def router(store_url: str) -> Iterator[RoutingNode]:
    """The routing node of the shapes experiment (unit from the state key ``session_id``)."""
    node = RoutingNode(experiments(), store=store_url, state_refresh_s=0.0)
    yield node
    node.close()


@pytest.fixture
def telemetry(router: RoutingNode) -> Iterator[CapturedTelemetry]:
    """Spans, metrics and observations of the test's runs."""
    with capture_telemetry(config=router.config) as captured:
        yield captured


def rollback(node: RoutingNode) -> None:
    """Roll the shapes experiment back through the store, as ``routing-agent rollback`` does."""
    Rollout(node.store, EXPERIMENT, known=True).rollback(actor="test", reason="app-shape rollback")
