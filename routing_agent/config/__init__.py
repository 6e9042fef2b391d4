"""Experiment YAML → frozen pydantic specs.

``load_experiments(*paths)`` reads files and folders into one ``ExperimentsConfig`` or raises a
``ConfigError`` listing every problem with file:line, experiment, field and fix; ``check_experiments``
returns the same findings without raising (what ``routing-agent validate`` prints).
"""

from routing_agent.config.conflicts import Collision, find_collisions
from routing_agent.config.loader import (
    ConfigCheck,
    check_experiments,
    check_experiments_string,
    load_experiments,
    load_experiments_from_string,
)
from routing_agent.config.spec import (
    AgentModelSpec,
    ExperimentsConfig,
    ExperimentSpec,
    ExperimentStatus,
    GuardrailSpec,
    MetricSpec,
    NamespaceSpec,
    PriceSpec,
    ScorerSpec,
    TelemetrySpec,
    Unit,
    VariantSpec,
)

__all__ = [
    "AgentModelSpec",
    "Collision",
    "ConfigCheck",
    "ExperimentSpec",
    "ExperimentStatus",
    "ExperimentsConfig",
    "GuardrailSpec",
    "MetricSpec",
    "NamespaceSpec",
    "PriceSpec",
    "ScorerSpec",
    "TelemetrySpec",
    "Unit",
    "VariantSpec",
    "check_experiments",
    "check_experiments_string",
    "find_collisions",
    "load_experiments",
    "load_experiments_from_string",
]
