"""Simulated models without the waiting: their latencies are reported, not slept."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from routing_agent.providers.simulated import get_time_scale, set_time_scale


@contextmanager
def instant_models() -> Iterator[None]:
    """Time scale 0 for the block (simulated calls take no wall time); the previous scale afterwards."""
    previous = get_time_scale()
    set_time_scale(0.0)
    try:
        yield
    finally:
        set_time_scale(previous)
