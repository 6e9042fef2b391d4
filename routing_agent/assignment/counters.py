"""Counts of routing decisions and store fallbacks: in-process numbers plus OpenTelemetry counters."""

from __future__ import annotations

__all__ = ["RoutingCounters"]

import threading
from collections import Counter
from typing import Any

from routing_agent._meters import ActiveCounter

_DECISIONS = ActiveCounter(
    "routing_agent.routing.decisions",
    unit="{decision}",
    description="Routing decisions by experiment and reason",
)
_EVENTS = ActiveCounter(
    "routing_agent.routing.store_events",
    unit="{event}",
    description="Assignment-store outages, fallbacks, write-backs and dropped write-backs",
)
_ATTRIBUTES: dict[tuple[str, str], dict[str, str]] = {}


class RoutingCounters:
    """Thread-safe counters; each increment also goes to an OTel counter on the meter provider given to
    ``instrument()`` (else the global one; see ``routing_agent._meters``).

    ``decisions``: per (experiment, reason). ``events``: store outages, fallbacks, write-backs, drops.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._decisions: Counter[tuple[str, str]] = Counter()
        self._events: Counter[str] = Counter()
        self._otel_decisions = _DECISIONS
        self._otel_events = _EVENTS

    def decision(self, experiment: str, reason: str) -> None:
        """Count one routing decision."""
        key = (experiment, reason)
        with self._lock:
            self._decisions[key] += 1
        attributes = _ATTRIBUTES.get(key)
        if attributes is None:  # one attribute dict per (experiment, reason), never mutated
            attributes = {"routing_agent.experiment": experiment, "routing_agent.reason": reason}
            if len(_ATTRIBUTES) < 100_000:
                _ATTRIBUTES[key] = attributes
        self._otel_decisions.add(1, attributes)

    def event(self, name: str, amount: int = 1) -> None:
        """Count a store event (``outage``, ``fallback``, ``writeback``, ``writeback_dropped``, ...)."""
        with self._lock:
            self._events[name] += amount
        self._otel_events.add(amount, {"routing_agent.event": name})

    def snapshot(self) -> dict[str, Any]:
        """``{"decisions": {experiment: {reason: n}}, "events": {name: n}}``."""
        with self._lock:
            decisions: dict[str, dict[str, int]] = {}
            for (experiment, reason), n in self._decisions.items():
                decisions.setdefault(experiment, {})[reason] = n
            return {"decisions": decisions, "events": dict(self._events)}

    def reason_count(self, reason: str, experiment: str | None = None) -> int:
        """How many decisions had ``reason`` (for one experiment, or all)."""
        with self._lock:
            return sum(
                n for (exp, r), n in self._decisions.items() if r == reason and experiment in (None, exp)
            )

    def event_count(self, name: str) -> int:
        """How many times the event ``name`` happened."""
        with self._lock:
            return self._events[name]
