"""routing-agent: A/B-test LLM releases inside LangGraph multi-agent workflows on production traffic."""

from routing_agent.assignment.records import Assignment, ExperimentState, Reason
from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec, ExperimentStatus
from routing_agent.errors import (
    ConfigError,
    ExperimentNotFound,
    ModelResolutionError,
    RoutingAgentError,
    StateTransitionError,
    StoreError,
    StoreUnavailable,
)
from routing_agent.graph import RoutingNode, RoutingState, routed_model
from routing_agent.observations.record import Observation
from routing_agent.providers.catalog import catalog

__all__ = [
    "Assignment",
    "ConfigError",
    "ExperimentNotFound",
    "ExperimentSpec",
    "ExperimentState",
    "ExperimentStatus",
    "ExperimentsConfig",
    "ModelResolutionError",
    "Observation",
    "Reason",
    "RoutingAgentError",
    "RoutingNode",
    "RoutingState",
    "StateTransitionError",
    "StoreError",
    "StoreUnavailable",
    "catalog",
    "routed_model",
]

__version__ = "0.1.0"
