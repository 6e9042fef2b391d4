"""The meter provider of the active instrumentation, for counters created outside the callback handler.

``instrument(meter_provider=mp)`` (and ``instrumented(...)`` for its block) make ``mp`` the *active* meter
provider. Counters of other parts of the library — routing decisions and assignment-store events
(``routing_agent.routing.decisions`` / ``store_events``), dropped observations
(``routing_agent.observations.dropped``) — are ``ActiveCounter`` objects: each increment goes to the
counter of that name on the active provider (created once per provider), else on the global one. So every
instrument lands on the provider given to ``instrument()``, whichever was created first.

This module imports only the OTel API (it is imported by the routing node's hot path).
"""

from __future__ import annotations

__all__ = ["ActiveCounter", "active_meter_provider", "set_active_meter_provider", "use_meter_provider"]

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry.metrics import Counter, MeterProvider, get_meter

_SCOPE = "routing_agent"
_VERSION = "0.1.0"
_scoped: ContextVar[MeterProvider | None] = ContextVar("routing_agent_meter_provider", default=None)
_process: list[MeterProvider | None] = [None]


def active_meter_provider() -> MeterProvider | None:
    """The provider of ``instrumented()`` in this context, else of ``instrument()``, else None (global)."""
    return _scoped.get() or _process[0]


def set_active_meter_provider(provider: MeterProvider | None) -> None:
    """Make ``provider`` the process-wide active one (``instrument()``); None restores the global one."""
    _process[0] = provider


@contextmanager
def use_meter_provider(provider: MeterProvider | None) -> Iterator[None]:
    """Make ``provider`` the active one in this context for the block (``instrumented()``)."""
    token = _scoped.set(provider)
    try:
        yield
    finally:
        _scoped.reset(token)


class ActiveCounter:
    """A counter that increments the same-named counter on the active meter provider (module docstring)."""

    def __init__(self, name: str, *, unit: str, description: str) -> None:
        self.name, self.unit, self.description = name, unit, description
        self._counters: dict[int, tuple[MeterProvider | None, Counter]] = {}
        self._lock = threading.Lock()

    def counter(self, provider: MeterProvider | None = None) -> Counter:
        """The OTel counter on ``provider`` (default: the active one)."""
        provider = provider or active_meter_provider()
        found = self._counters.get(id(provider))
        if found is not None and found[0] is provider:
            return found[1]
        with self._lock:
            meter = get_meter(_SCOPE, _VERSION, provider)
            made = meter.create_counter(self.name, unit=self.unit, description=self.description)
            self._counters[id(provider)] = (provider, made)
            return made

    def add(self, amount: float, attributes: Mapping[str, Any] | None = None) -> None:
        """Add ``amount`` on the active provider's counter."""
        self.counter().add(amount, attributes)
