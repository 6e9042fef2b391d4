"""OpenTelemetry for routed LangGraph workflows: GenAI spans, metrics, cost, TTFT, citations, observations.

Usage::

    from routing_agent.telemetry import configure_exporters, instrument

    setup = configure_exporters(otlp="http://127.0.0.1:6006", project="support")   # or console=True
    instrument(tracer_provider=setup.tracer_provider, observations="sqlite:///obs.db", config=experiments)
    graph.invoke({...})            # every graph, node and chat-model call is traced

Or scoped: ``with instrumented(observations=store): graph.invoke(...)``; or explicit:
``graph.invoke(x, {"callbacks": [RoutingTelemetry(...)]})``. Without providers the global ones are used.

Environment: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` records prompts/responses (off by
default; also ``telemetry.capture_content`` in the YAML); ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` set the OTLP target when no URL is given.

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

from routing_agent.telemetry.callbacks import RoutingTelemetry
from routing_agent.telemetry.citations import with_citations
from routing_agent.telemetry.exporters import configure_exporters
from routing_agent.telemetry.install import current_handler, instrument, instrumented, uninstrument
from routing_agent.telemetry.pricing import Pricer, TokenUsage
