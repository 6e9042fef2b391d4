"""LangGraph integration: the routing node, the state key and its reducer, and ``routed_model``."""

from routing_agent.graph.models import routed_model
from routing_agent.graph.node import RoutingNode
from routing_agent.graph.state import RoutingState

__all__ = ["RoutingNode", "RoutingState", "routed_model"]
