"""Experiment YAML → frozen pydantic specs.

``load_experiments(*paths)`` reads files and folders into one ``ExperimentsConfig`` or raises a
``ConfigError`` listing every problem with file:line, experiment, field and fix; ``check_experiments``
returns the same findings without raising (what ``routing-agent validate`` prints).
"""

from routing_agent.config.loader import check_experiments, load_experiments, load_experiments_from_string
from routing_agent.config.spec import ExperimentsConfig, ExperimentStatus, Unit

__all__ = [
    "ExperimentStatus",
    "ExperimentsConfig",
    "Unit",
    "check_experiments",
    "load_experiments",
    "load_experiments_from_string",
]
