"""The experiment spec the control tests use (kept light: racing processes import it)."""

from __future__ import annotations

from typing import Any

from routing_agent.config.spec import ExperimentSpec


def make_spec(experiment: str = "exp", *, review: str = "none", **extra: Any) -> ExperimentSpec:
    """A 50/50 control/candidate experiment with a p95 latency guardrail at 1.3× control."""
    return ExperimentSpec.model_validate(
        {
            "id": experiment,
            "variants": [
                {"name": "control", "model": "echo:control-model", "control": True},
                {"name": "candidate", "model": "echo:candidate-model"},
            ],
            "guardrails": [
                {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3, "min_sample": 50}
            ],
            "review": review,
            **extra,
        }
    )
