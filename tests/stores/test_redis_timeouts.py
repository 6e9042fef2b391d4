"""Client timeouts: 50 ms for the sync client, 250 ms for asyncio clients unless the URL says otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from routing_agent.stores.assignments import open_store
from routing_agent.stores.assignments.redis import RedisStore


def _timeouts(client: Any) -> tuple[float, float]:
    kwargs = client.connection_pool.connection_kwargs
    return kwargs["socket_timeout"], kwargs["socket_connect_timeout"]


@pytest.mark.parametrize(
    ("query", "sync", "asyncio_"),
    [
        ("", 0.05, 0.25),
        ("?timeout=1.5", 1.5, 1.5),
        ("?async_timeout=0.5", 0.05, 0.5),
        ("?timeout=0.02&async_timeout=0.4", 0.02, 0.4),
    ],
)
async def test_timeouts_by_client_kind(
    redis_url: str, redis_prefix: str, query: str, sync: float, asyncio_: float
) -> None:
    store = open_store(redis_url + query, prefix=redis_prefix)
    assert isinstance(store, RedisStore)
    try:
        assert _timeouts(store._sync()) == (sync, sync)
        assert _timeouts(store._aclient()) == (asyncio_, asyncio_)
        # both clients really work against the server with those settings
        assert await store.aget_or_set("exp", "u1", "control") == ("control", True)
        assert store.get_or_set("exp", "u1", "candidate") == ("control", False)
    finally:
        await store.aclose()
        store.close()
