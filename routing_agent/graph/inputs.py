"""What a ``RoutingNode`` is built from: its experiments and store (as given), and the agents it routes.

``AgentScope`` indexes a config's experiments by agent once per config: the experiments the node decides
(scope empty, or meeting ``agents=``) and, per agent, the ones it leaves out — so routing a unit costs the
experiments that apply, not every experiment in the YAML.
"""

from __future__ import annotations

__all__ = ["AgentScope", "ExperimentsLike", "StoreLike", "as_config", "as_store"]

from collections.abc import Sequence
from pathlib import Path

from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec
from routing_agent.stores.assignments.base import AssignmentStore

ExperimentsLike = ExperimentsConfig | ExperimentSpec | Sequence[ExperimentSpec] | str | Path
StoreLike = AssignmentStore | str | Path | None


def as_config(experiments: ExperimentsLike) -> ExperimentsConfig:
    """A loaded config from a config, spec(s) or a YAML path (file or folder)."""
    if isinstance(experiments, ExperimentsConfig):
        return experiments
    if isinstance(experiments, ExperimentSpec):
        return ExperimentsConfig(experiments=(experiments,))
    if isinstance(experiments, str | Path):
        from routing_agent.loading import load_experiments

        return load_experiments(experiments)
    return ExperimentsConfig(experiments=tuple(experiments))


def as_store(store: StoreLike) -> AssignmentStore:
    """An assignment store from a store, a path or URL; None is a memory store."""
    from routing_agent.stores.assignments import open_store

    return open_store("memory://" if store is None else store)


class AgentScope:
    """The experiments a node decides (their scope meets its agents) and, per agent, those it leaves out."""

    def __init__(self, config: ExperimentsConfig, agents: frozenset[str] | None) -> None:
        self.applicable: tuple[ExperimentSpec, ...] = tuple(
            s for s in config.experiments if agents is None or not s.scope or not agents.isdisjoint(s.scope)
        )
        self.position = {s.id: i for i, s in enumerate(config.experiments)}
        decided = {id(s) for s in self.applicable}
        skipped: dict[str, list[ExperimentSpec]] = {}
        for spec in config.experiments:
            if id(spec) not in decided:
                for agent in spec.scope:
                    skipped.setdefault(agent, []).append(spec)
        self._skipped = {agent: tuple(specs) for agent, specs in skipped.items()}

    @property
    def skips(self) -> bool:
        """Whether any experiment is left out."""
        return bool(self._skipped)

    def skipped_for(self, agent: str | None) -> tuple[ExperimentSpec, ...]:
        """The left-out experiments scoped to ``agent``."""
        return self._skipped.get(agent, ()) if agent is not None else ()
