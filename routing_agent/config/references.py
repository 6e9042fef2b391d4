"""Agent names that metrics, guardrails and scorers refer to must exist.

When an experiment has a scope, each agent it names elsewhere must be in that scope or in the file-level
``agents:`` section (a downstream agent that keeps its default model but whose output is measured).
Without a scope every agent is in the experiment, so nothing can be checked.
"""

from __future__ import annotations

__all__ = ["unknown_agents"]

from collections.abc import Collection

from routing_agent.config.messages import suggest
from routing_agent.config.spec import ExperimentSpec
from routing_agent.config.yaml_source import Path


def unknown_agents(spec: ExperimentSpec, declared: Collection[str]) -> list[tuple[Path, str, str]]:
    """(path inside the experiment, message, fix) for each reference to an agent nobody declared."""
    if not spec.scope:
        return []
    refs: list[tuple[Path, str | None]] = []
    if spec.primary_metric is not None:
        refs.append((("primary_metric", "agent"), spec.primary_metric.agent))
    refs += [(("secondary_metrics", i, "agent"), m.agent) for i, m in enumerate(spec.secondary_metrics)]
    refs += [(("guardrails", i, "agent"), g.agent) for i, g in enumerate(spec.guardrails)]
    refs += [(("scorers", i, "agent"), s.agent) for i, s in enumerate(spec.scorers)]
    refs += [  # segments read from an agent's output
        (("segments", spec.segments.index(name), "from"), source.agent)
        for name, source in spec.segment_sources.items()
    ]
    problems: list[tuple[Path, str, str]] = []
    for loc, agent in refs:
        if agent is None or agent in spec.scope or agent in declared:
            continue
        close = suggest(agent, [*spec.scope, *declared])
        fix = f"did you mean '{close}'? " if close else ""
        fix += f"Add '{agent}' to scope, or to the agents: section if it keeps its default model"
        message = (
            f"agent '{agent}' is neither in this experiment's scope ({', '.join(spec.scope)}) nor in agents:"
        )
        problems.append((loc, message, fix))
    return problems
