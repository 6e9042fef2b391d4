"""OpenTelemetry for routed LangGraph workflows: GenAI spans, metrics, cost, TTFT, citations, observations.

Usage::

    from routing_agent.telemetry import configure_exporters, instrument

    setup = configure_exporters(otlp="http://127.0.0.1:6006", project="support")   # or console=True
    instrument(tracer_provider=setup.tracer_provider, observations="sqlite:///obs.db", config=experiments)
    graph.invoke({...})            # every graph, node and chat-model call is traced

Or scoped: ``with instrumented(observations=store): graph.invoke(...)``; or explicit:
``graph.invoke(x, {"callbacks": [RoutingTelemetry(...)]})``. Without providers the global ones are used; the
meter provider given to ``instrument()`` receives every instrument of the library (``routing_agent._meters``).

Span tree and which nodes are agents: ``telemetry.graph_spans``. A ``chat`` span is created when its call
ends, with the call's start time (``telemetry.calls``): span processors see its start and end together.
TTFT is the first chunk carrying content (``telemetry.response``). Attributes Arize Phoenix and MLflow
read (span kinds, cost): ``telemetry.backends``; for MLflow pass
``headers={"x-mlflow-experiment-id": "<id>"}`` to ``configure_exporters``.

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` records prompts/responses (off by
default; also ``telemetry.capture_content`` in the YAML); ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` set the OTLP target when no URL is given; ``OTEL_SERVICE_NAME`` the
service name.

Attribute names: ``routing_agent.telemetry.semconv``. Model-reported durations (time-scaled simulations):
``routing_agent.telemetry.response``. Citation hand-over: ``routing_agent.telemetry.citations``.
"""

from __future__ import annotations

__all__ = [
    "Pricer",
    "RoutingTelemetry",
    "TokenUsage",
    "configure_exporters",
    "current_handler",
    "instrument",
    "instrumented",
    "uninstrument",
    "with_citations",
]

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routing_agent.telemetry.callbacks import RoutingTelemetry
    from routing_agent.telemetry.citations import with_citations
    from routing_agent.telemetry.exporters import configure_exporters
    from routing_agent.telemetry.install import current_handler, instrument, instrumented, uninstrument
    from routing_agent.telemetry.pricing import Pricer, TokenUsage

_WHERE = {
    "RoutingTelemetry": "callbacks",
    "with_citations": "citations",
    "configure_exporters": "exporters",
    "current_handler": "install",
    "instrument": "install",
    "instrumented": "install",
    "uninstrument": "install",
    "Pricer": "pricing",
    "TokenUsage": "pricing",
}


def __getattr__(name: str) -> Any:
    """Import public names on first use, so importing the package loads none of its modules."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'routing_agent.telemetry' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(f"routing_agent.telemetry.{module}"), name)
    globals()[name] = value
    return value
