"""Workers that serve a graph in threads while ``watch`` acts: how a test ends them."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from routing_agent.graph import RoutingNode


def stop_serving(
    stop: threading.Event, threads: Sequence[threading.Thread], workers: Mapping[str, tuple[Any, RoutingNode]]
) -> None:
    """Set ``stop``, join every serving thread (30 s each) and close every worker's routing node."""
    stop.set()
    for t in threads:
        t.join(timeout=30)
    for _, node in workers.values():
        node.close()
