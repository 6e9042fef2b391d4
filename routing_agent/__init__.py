"""routing-agent: A/B-test LLM releases inside LangGraph multi-agent workflows on production traffic.

::

    from routing_agent import RoutingNode, RoutingState, load_experiments, record_outcome, routed_model

    experiments = load_experiments("configs/support.yaml")
    class State(RoutingState, MessagesState): session_id: str     # or `routing: Routing` in any state
    graph.add_node("route", RoutingNode(experiments, store="redis://localhost:6379/0"))
    def drafter(state, config):
        llm = routed_model(state, config)      # the unit's variant for this agent
        record_outcome("support-haiku", "resolved", 1.0, state)   # the primary metric
    instrument(config=experiments, observations="redis://localhost:6379/0")
    create_agent(model, tools, middleware=[RoutingMiddleware(experiments, store=…)], name="drafter")

Everything public is listed in ``__all__``; sub-packages hold the details (``routing_agent.stats``,
``routing_agent.scoring``, ``routing_agent.control``, …) and ``routing_agent.testing`` the test doubles.
"""

from typing import TYPE_CHECKING, Any

from routing_agent.assignment.records import Assignment, ExperimentState, Reason
from routing_agent.assignment.stores import AssignmentStore, open_store
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
from routing_agent.graph import (
    ReloadResult,
    Routing,
    RoutingNode,
    RoutingState,
    arecord_outcome,
    arouted_model,
    inherited_routing,
    record_outcome,
    routed_model,
)
from routing_agent.observations import Observation, ObservationStore, open_observation_store
from routing_agent.providers.catalog import catalog
from routing_agent.scoring import ScoringNode, ShadowRunner, build_scorers, score_records
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
    "Routing",
    "RoutingAgentError",
    "RoutingMiddleware",
    "RoutingNode",
    "RoutingState",
    "RoutingTelemetry",
    "ScoringNode",
    "ShadowRunner",
    "StateTransitionError",
    "StoreError",
    "StoreUnavailable",
    "Watcher",
    "arecord_outcome",
    "arouted_model",
    "build_scorers",
    "catalog",
    "check_experiments",
    "configure_exporters",
    "evaluate",
    "inherited_routing",
    "instrument",
    "instrumented",
    "load_experiments",
    "load_experiments_from_string",
    "open_observation_store",
    "open_store",
    "record_outcome",
    "routed_agent_model",
    "routed_model",
    "score_records",
    "uninstrument",
    "write_report",
]

__version__ = "0.1.0"

if TYPE_CHECKING:
    from routing_agent.graph.agents import RoutingMiddleware, routed_agent_model


def __getattr__(name: str) -> Any:
    # the prebuilt-agent helpers import langchain.agents (≈2 s): only when asked for
    if name in {"RoutingMiddleware", "routed_agent_model"}:
        from routing_agent.graph import agents

        return getattr(agents, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
