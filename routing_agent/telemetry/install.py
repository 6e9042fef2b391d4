"""``instrument()``: trace every LangChain/LangGraph run in the process with one call.

LangChain consults its *configure hooks* whenever it builds a callback manager (every ``invoke``/``stream``
of every runnable). We register one hook whose slot yields the active ``RoutingTelemetry``: the handler set
by ``instrumented()`` in the current context, else the process-wide one set by ``instrument()``. A handler
the user also passes in ``callbacks=[...]`` is the same object and is not added twice.
"""

from __future__ import annotations

__all__ = ["current_handler", "instrument", "instrumented", "uninstrument"]

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from routing_agent._meters import set_active_meter_provider, use_meter_provider
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.telemetry.callbacks import RoutingTelemetry
from routing_agent.telemetry.pricing import Pricer

_scoped: ContextVar[RoutingTelemetry | None] = ContextVar("routing_agent_telemetry", default=None)
_process: list[RoutingTelemetry | None] = [None]
_hook_lock = threading.Lock()
_hook_registered = [False]


class _Slot:
    """Looks like the ``ContextVar`` LangChain's configure hook reads: scoped handler, else the global."""

    def get(self) -> RoutingTelemetry | None:
        return _scoped.get() or _process[0]


def _ensure_hook() -> None:
    with _hook_lock:
        if _hook_registered[0]:
            return
        from langchain_core.tracers.context import register_configure_hook

        register_configure_hook(cast(ContextVar[Any], _Slot()), inheritable=True)
        _hook_registered[0] = True


def current_handler() -> RoutingTelemetry | None:
    """The handler LangChain runs would get right now (scoped, else process-wide), or None."""
    return _Slot().get()


def instrument(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    observations: Any = None,
    config: ExperimentsConfig | None = None,
    pricer: Pricer | None = None,
    capture_content: bool | None = None,
    **options: Any,
) -> RoutingTelemetry:
    """Trace every LangChain chat-model call and LangGraph node in this process; returns the handler.

    ``meter_provider`` receives every instrument of the library: the handler's histograms and counters, and
    the routing decisions, assignment-store events and dropped observations (``routing_agent._meters``).
    ``options`` go to ``RoutingTelemetry`` (``agents=``, ``workflow_name=``).
    ``observations`` is an ``ObservationStore`` (written by a background buffered writer), a
    ``BufferedObservationWriter``, a store URL (``sqlite:///obs.db``, ``redis://…``, ``memory://``) or None.
    Calling it again replaces the previous handler (whose buffered observations are flushed first).
    """
    if isinstance(observations, str):
        from routing_agent.stores.observations import open_observation_store

        observations = open_observation_store(observations)
    handler = RoutingTelemetry(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        observations=observations,
        config=config,
        pricer=pricer,
        capture_content=capture_content,
        **options,
    )
    _ensure_hook()
    previous = _process[0]
    _process[0] = handler
    set_active_meter_provider(meter_provider)
    if previous is not None:
        previous.flush()
    return handler


def uninstrument(flush_timeout_s: float = 5.0) -> None:
    """Stop the process-wide instrumentation (flushing buffered observations)."""
    previous = _process[0]
    _process[0] = None
    set_active_meter_provider(None)
    if previous is not None:
        previous.flush(flush_timeout_s)


@contextmanager
def instrumented(handler: RoutingTelemetry | None = None, **kwargs: Any) -> Iterator[RoutingTelemetry]:
    """Instrument runs started inside the ``with`` block (this context and the threads/tasks it spawns).

    Pass a ready ``handler`` or the keyword arguments of ``instrument()``.
    """
    if handler is None:
        observations = kwargs.pop("observations", None)
        if isinstance(observations, str):
            from routing_agent.stores.observations import open_observation_store

            observations = open_observation_store(observations)
        handler = RoutingTelemetry(observations=observations, **kwargs)
    _ensure_hook()
    token = _scoped.set(handler)
    try:
        with use_meter_provider(handler.meter_provider):
            yield handler
    finally:
        _scoped.reset(token)
        handler.flush()
