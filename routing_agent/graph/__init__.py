"""LangGraph integration: the routing node and channel, ``routed_model``, prebuilt-agent routing, outcomes."""

from typing import TYPE_CHECKING, Any

from routing_agent.graph.models import arouted_model, routed_model
from routing_agent.graph.node import ReloadResult, RoutingNode
from routing_agent.graph.outcomes import arecord_outcome, record_outcome
from routing_agent.graph.resolution import inherited_routing
from routing_agent.graph.state import ROUTING_KEY, Routing, RoutingState, keep_first_assignment

if TYPE_CHECKING:
    from routing_agent.graph.agents import RoutingMiddleware, routed_agent_model

__all__ = [
    "ROUTING_KEY",
    "ReloadResult",
    "Routing",
    "RoutingMiddleware",
    "RoutingNode",
    "RoutingState",
    "arecord_outcome",
    "arouted_model",
    "inherited_routing",
    "keep_first_assignment",
    "record_outcome",
    "routed_agent_model",
    "routed_model",
]


def __getattr__(name: str) -> Any:
    # the prebuilt-agent helpers import langchain.agents (≈2 s): only when asked for
    if name in {"RoutingMiddleware", "routed_agent_model"}:
        from routing_agent.graph import agents

        return getattr(agents, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
