"""Warnings of ``routing-agent validate``: a config that loads but cannot do the job the product promises.

Not errors — the experiment runs and routes — but a reader should know before traffic flows:

* no ``primary_metric``: the evaluator has nothing to decide on; it never ships or picks a cheaper arm.
* no ``guardrails``: nothing stops the test on a latency, cost or refusal regression.
"""

from __future__ import annotations

__all__ = ["ConfigWarning", "config_warnings"]

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from routing_agent.config.spec import ExperimentSpec


@dataclass(frozen=True)
class ConfigWarning:
    """One warning: where (file:line, experiment, field), what, and the fix."""

    place: str
    experiment: str
    field: str
    message: str
    fix: str


def config_warnings(
    experiments: Iterable[ExperimentSpec], places: Mapping[str, str] | None = None
) -> list[ConfigWarning]:
    """The warnings of every experiment (``places``: experiment id → ``file:line``)."""
    out: list[ConfigWarning] = []
    for spec in experiments:
        place = (places or {}).get(spec.id, "")
        if spec.primary_metric is None:
            out.append(
                ConfigWarning(
                    place, spec.id, "primary_metric",
                    "no primary metric: the evaluator has nothing to decide on and never ships or picks the "
                    "cheaper arm",
                    "add primary_metric: {name: resolved, kind: binary, direction: increase, mde: 0.02}",
                )
            )  # fmt: skip
        if not spec.guardrails:
            out.append(
                ConfigWarning(
                    place, spec.id, "guardrails",
                    "no guardrails: nothing stops the test on a latency, cost or refusal regression",
                    "add guardrails, e.g. - {metric: latency_s, statistic: p95, max_ratio_to_control: 1.3}",
                )
            )  # fmt: skip
    return out
