"""The public surface changes only on purpose: this list is the contract users import from."""

import routing_agent

PUBLIC = [
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


def test_public_names_are_pinned_and_sorted() -> None:
    assert routing_agent.__all__ == PUBLIC
    assert sorted(PUBLIC) == PUBLIC
    for name in PUBLIC:
        assert getattr(routing_agent, name) is not None
