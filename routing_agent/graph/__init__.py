"""LangGraph integration: the routing node, the state key and its reducer, and ``routed_model``."""

from routing_agent.graph.models import routed_model
from routing_agent.graph.node import ReloadResult, RoutingNode
from routing_agent.graph.state import ROUTING_KEY, RoutingState, keep_first_assignment

__all__ = [
    "ROUTING_KEY",
    "ReloadResult",
    "RoutingNode",
    "RoutingState",
    "keep_first_assignment",
    "routed_model",
]
