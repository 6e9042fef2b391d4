"""Offline runs of the reference workflows: ``demo``, ``simulate`` and the pipeline they share."""

from routing_agent.simulation.demo import demo, simulate, workflow_for
from routing_agent.simulation.pipeline import Pipeline, SimulationContext, Step
from routing_agent.simulation.runner import (
    RunSummary,
    SessionPlan,
    SessionResult,
    plan_sessions,
    run_sessions,
)
from routing_agent.simulation.steps import default_pipeline

__all__ = [
    "Pipeline",
    "RunSummary",
    "SessionPlan",
    "SessionResult",
    "SimulationContext",
    "Step",
    "default_pipeline",
    "demo",
    "plan_sessions",
    "run_sessions",
    "simulate",
    "workflow_for",
]
