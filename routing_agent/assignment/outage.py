"""The outage state machine of ``GuardedStore``: up, down with a back-off, one probe at a time.

When a store call fails the store is *down*: no call goes to it for a back-off period (0.5 s doubling to 5 s),
then exactly one call probes it (calls arriving while the probe is in flight fall back at once, so a store
that is slow rather than down costs one timeout per back-off period, not one per concurrent request). A probe
that succeeds brings the store back *up* and runs the ``on_recovered`` callback (the write-back).
"""

from __future__ import annotations

__all__ = ["CALL", "PROBE", "SKIP", "Breaker", "OutagePolicy"]

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from routing_agent.assignment.counters import RoutingCounters

logger = logging.getLogger("routing_agent.assignment")

CALL, PROBE, SKIP = "call", "probe", "skip"
"""What ``Breaker.enter`` says: call the store (up), probe it (down, back-off over), or skip it."""


@dataclass(frozen=True, slots=True)
class OutagePolicy:
    """How a routing node rides out a store outage (``RoutingNode(outage=…)``); defaults suit production."""

    backoff_s: float = 0.5  # no store call for this long after a failure; doubles after each failed probe
    max_backoff_s: float = 5.0  # ... up to this
    max_pending: int = 100_000  # units remembered for write-back during an outage; the overflow is counted
    close_flush_s: float = 5.0  # on close, keep retrying queued write-backs this long before giving up

    def __post_init__(self) -> None:
        if (
            not 0 < self.backoff_s <= self.max_backoff_s
            or self.max_pending < 0
            or not self.close_flush_s >= 0
        ):
            raise ValueError(
                "OutagePolicy needs 0 < backoff_s <= max_backoff_s, max_pending >= 0 and "
                f"close_flush_s >= 0: {self}"
            )


class Breaker:
    """Up / down / half-open bookkeeping of one store; logs once per outage and counts it."""

    def __init__(
        self,
        policy: OutagePolicy,
        counters: RoutingCounters,
        on_recovered: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.counters = counters
        self._on_recovered = on_recovered
        self._clock = clock
        self._lock = threading.Lock()
        self.down = False
        self._probing = False
        self._backoff = policy.backoff_s
        self._retry_at = 0.0

    def enter(self) -> str:
        """``CALL`` (store up), ``PROBE`` (down, back-off over: this call alone probes) or ``SKIP``."""
        if not self.down:
            return CALL
        with self._lock:  # half-open: one probe at a time
            if self._probing or self._clock() < self._retry_at:
                return SKIP
            self._probing = True
            return PROBE

    def failed(self, exc: BaseException, *, probe: bool = False) -> None:
        """A store call failed: enter (or stay in) the outage and set the next probe time."""
        with self._lock:
            if probe:
                self._probing = False
            elif self.down:
                return  # a call that started before the outage was noticed: the back-off stands
            now = self._clock()
            if not self.down:
                self.down = True
                self._backoff = self.policy.backoff_s
                self.counters.event("outage")
                logger.warning(
                    "assignment store unavailable (%s: %s); routing by deterministic hash until it returns",
                    type(exc).__name__,
                    exc,
                )
            else:
                self._backoff = min(self._backoff * 2, self.policy.max_backoff_s)
            self._retry_at = now + self._backoff

    def succeeded(self, mode: str, pending: int) -> None:
        """A store call answered; a successful probe ends the outage (``pending`` units to write back)."""
        if not self.down or mode is not PROBE:
            return  # up already, or a call that started before the outage: says nothing about now
        with self._lock:
            self._probing = False
            if not self.down:
                return
            self.down = False
            self.counters.event("recovered")
            logger.warning("assignment store is back; writing back %d units", pending)
        self._on_recovered()

    def abandon(self, mode: str) -> None:
        """A probe ended without an answer (cancelled): let the next call probe."""
        if mode is PROBE:
            with self._lock:
                self._probing = False
