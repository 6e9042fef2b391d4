"""routing-agent: A/B-test LLM releases inside LangGraph multi-agent workflows on production traffic.

::

    from routing_agent import RoutingNode, RoutingState, instrument, load_experiments, routed_model

    experiments = load_experiments("configs/support.yaml")
    graph.add_node("route", RoutingNode(experiments, store="redis://localhost:6379/0"))
    def drafter(state, config):
        llm = routed_model(state, config)      # the unit's variant for this agent
    instrument(config=experiments, observations="redis://localhost:6379/0")

Everything public is listed in ``__all__``; sub-packages hold the details (``routing_agent.stats``,
``routing_agent.scoring``, ``routing_agent.control``, …) and ``routing_agent.testing`` the test doubles.
"""

from routing_agent.assignment.records import Assignment, ExperimentState, Reason
from routing_agent.config import (
    ExperimentsConfig,
    ExperimentSpec,
    ExperimentStatus,
    check_experiments,
    load_experiments,
    load_experiments_from_string,
)
from routing_agent.control import ReviewQueue, Rollout, Watcher
from routing_agent.errors import (
    ConfigError,
    ConfigIssue,
    ExperimentNotFound,
    MissingDependency,
    ModelResolutionError,
    RoutingAgentError,
    StateTransitionError,
    StoreError,
    StoreUnavailable,
)
from routing_agent.evaluation import Decision, DecisionKind, Evaluation, evaluate, write_report
from routing_agent.graph import ReloadResult, RoutingNode, RoutingState, routed_model
from routing_agent.providers.catalog import catalog
from routing_agent.scoring import ScoringNode, ShadowRunner, build_scorers, score_records
from routing_agent.stores.assignments import AssignmentStore, open_store
from routing_agent.stores.observations import Observation, ObservationStore, open_observation_store
from routing_agent.telemetry import (
    RoutingTelemetry,
    configure_exporters,
    instrument,
    instrumented,
    uninstrument,
)

__all__ = [
    "Assignment",
    "AssignmentStore",
    "ConfigError",
    "ConfigIssue",
    "Decision",
    "DecisionKind",
    "Evaluation",
    "ExperimentNotFound",
    "ExperimentSpec",
    "ExperimentState",
    "ExperimentStatus",
    "ExperimentsConfig",
    "MissingDependency",
    "ModelResolutionError",
    "Observation",
    "ObservationStore",
    "Reason",
    "ReloadResult",
    "ReviewQueue",
    "Rollout",
    "RoutingAgentError",
    "RoutingNode",
    "RoutingState",
    "RoutingTelemetry",
    "ScoringNode",
    "ShadowRunner",
    "StateTransitionError",
    "StoreError",
    "StoreUnavailable",
    "Watcher",
    "build_scorers",
    "catalog",
    "check_experiments",
    "configure_exporters",
    "evaluate",
    "instrument",
    "instrumented",
    "load_experiments",
    "load_experiments_from_string",
    "open_observation_store",
    "open_store",
    "routed_model",
    "score_records",
    "uninstrument",
    "write_report",
]

__version__ = "0.1.0"
