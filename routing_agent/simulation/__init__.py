"""Offline runs of the reference workflows: ``demo`` and ``simulate``, on simulated models.

``simulate(config_path, RunSettings(...))`` runs any reference workflow under a config against any store;
``demo()`` runs the main job (support triage, traced and decided) from the config shipped in the package.
"""

from routing_agent.simulation.demo import RunSettings, SimulationRun, demo, simulate, workflow_for
from routing_agent.simulation.runner import (
    RunSummary,
    SessionPlan,
    SessionResult,
    plan_sessions,
    run_sessions,
)

__all__ = [
    "RunSettings",
    "RunSummary",
    "SessionPlan",
    "SessionResult",
    "SimulationRun",
    "demo",
    "plan_sessions",
    "run_sessions",
    "simulate",
    "workflow_for",
]
