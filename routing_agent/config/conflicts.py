"""Experiments that could enroll the same unit on the same agent, and are not kept apart.

Two experiments *collide* when they share an agent (an empty scope means every agent), are both live (any
status but ``stopped``) in overlapping ``[start, end)`` windows. A unit enrolled in both would have two
variants for one agent. They are kept apart only by GrowthBook-style mutual exclusion: the same unit kind and
state key, the same ``namespace.name`` and disjoint ``namespace.range``s, so the namespace hash puts every
unit in at most one of them. Experiments randomizing different units (session vs user) cannot be kept apart
by a namespace at all: their scopes or windows must not overlap.
"""

from __future__ import annotations

__all__ = ["MAX_COLLISIONS", "Collision", "find_collisions"]

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from routing_agent.config.spec import ExperimentSpec, ExperimentStatus


@dataclass(frozen=True)
class Collision:
    """Two experiments claiming the same agent for the same units; ``second`` comes later in the config."""

    first: str
    second: str
    agents: tuple[str, ...]
    """Shared agents; empty when both experiments apply to every agent."""
    unit: str | None
    """The unit kind both randomize by; None when they differ."""
    reason: str
    fix: str
    field: str
    """The field of ``second`` to change: ``namespace``, or ``unit`` when the units differ."""

    def message(self, places: Mapping[str, str] | None = None) -> str:
        """The problem in words; ``places`` maps experiment ids to ``file:line`` to name where each is."""
        places = places or {}

        def named(exp: str) -> str:
            return f"'{exp}' ({places[exp]})" if exp in places else f"'{exp}'"

        agents = ", ".join(self.agents) if self.agents else "every agent"
        return (
            f"experiments {named(self.first)} and {named(self.second)} both route {agents} for the same "
            f"{self.unit + 's' if self.unit else 'traffic'} in overlapping time windows: {self.reason}"
        )


MAX_COLLISIONS = 200
"""Collisions reported at most (each is a pair: a config of n unrelated experiments has n²/2)."""


def find_collisions(experiments: Sequence[ExperimentSpec], limit: int | None = None) -> list[Collision]:
    """Every pair of experiments that are not mutually exclusive but must be (the first ``limit``).

    Linear in the experiments plus the pairs that share an agent: pairs are drawn per agent (an empty scope
    shares every agent), and within one namespace only the ranges that overlap in a sweep are pairs.
    """
    live = [e for e in experiments if e.status is not ExperimentStatus.STOPPED]
    found: list[Collision] = []
    for first, second in _candidate_pairs(live):
        if limit is not None and len(found) >= limit:
            break
        shared = _shared_agents(first, second)
        if shared is None or not _windows_overlap(first, second):
            continue
        problem = _why_not_exclusive(first, second)
        if problem is not None:
            why, fix = problem
            same_unit = (first.unit, first.state_key) == (second.unit, second.state_key)
            unit = first.unit.value if same_unit else None
            field = "namespace" if same_unit else "unit"
            found.append(Collision(first.id, second.id, shared, unit, why, fix, field))
    return found


def _candidate_pairs(live: Sequence[ExperimentSpec]) -> Iterator[tuple[ExperimentSpec, ExperimentSpec]]:
    """Pairs (in config order) that share an agent, without pairs a namespace range sweep rules out."""
    order = {id(e): i for i, e in enumerate(live)}
    everyone = [e for e in live if not e.scope]
    by_agent: dict[str, list[ExperimentSpec]] = {}
    for e in live:
        for agent in dict.fromkeys(e.scope):
            by_agent.setdefault(agent, []).append(e)
    groups = [everyone] + [everyone + scoped for scoped in by_agent.values() if scoped]
    seen: set[tuple[int, int]] = set()
    for group in groups:
        for a, b in _overlapping(group):
            key = (min(order[id(a)], order[id(b)]), max(order[id(a)], order[id(b)]))
            if key[0] != key[1] and key not in seen:
                seen.add(key)
                yield (a, b) if order[id(a)] < order[id(b)] else (b, a)


def _overlapping(group: Sequence[ExperimentSpec]) -> Iterator[tuple[ExperimentSpec, ExperimentSpec]]:
    """Pairs of ``group`` not kept apart by one namespace's disjoint ranges (a sweep over range starts)."""
    by_space: dict[tuple[object, ...], list[ExperimentSpec]] = {}
    for e in group:
        key = (e.unit, e.state_key, e.namespace.name) if e.namespace is not None else ("-", id(e))
        by_space.setdefault(key, []).append(e)
    spaces = list(by_space.values())
    for i, space in enumerate(spaces):  # different spaces: nothing keeps them apart
        for other in spaces[i + 1 :]:
            for a in space:
                for b in other:
                    yield a, b
        ranged = sorted(space, key=lambda e: e.namespace.range[0] if e.namespace else 0.0)
        active: list[ExperimentSpec] = []
        for e in ranged:
            start = e.namespace.range[0] if e.namespace else 0.0
            active = [a for a in active if a.namespace is not None and a.namespace.range[1] > start]
            for a in active:
                yield a, e
            active.append(e)


def _shared_agents(a: ExperimentSpec, b: ExperimentSpec) -> tuple[str, ...] | None:
    """Agents both route (``()`` = every agent), or None when the scopes are disjoint."""
    if not a.scope:
        return tuple(b.scope)
    if not b.scope:
        return tuple(a.scope)
    shared = tuple(agent for agent in a.scope if agent in b.scope)
    return shared or None


def _windows_overlap(a: ExperimentSpec, b: ExperimentSpec) -> bool:
    return _before(a.start, b.end) and _before(b.start, a.end)


def _before(start: datetime | None, end: datetime | None) -> bool:
    return start is None or end is None or start < end


def _why_not_exclusive(a: ExperimentSpec, b: ExperimentSpec) -> tuple[str, str] | None:
    """(what is wrong, how to fix it), or None when the namespaces keep the two apart."""
    if (a.unit, a.state_key) != (b.unit, b.state_key):
        return (
            f"'{a.id}' randomizes by {a.unit.value} ('{a.state_key}') and '{b.id}' by {b.unit.value} "
            f"('{b.state_key}'), so no namespace can keep their units apart",
            "give them disjoint scopes or time windows, use the same unit for both, or set status: stopped "
            "on one",
        )
    na, nb = a.namespace, b.namespace
    if na is None or nb is None:
        missing = " and ".join(f"'{e.id}'" for e in (a, b) if e.namespace is None)
        return (
            f"{missing} {'has' if ' and ' not in missing else 'have'} no namespace, so one unit can be "
            "enrolled in both",
            f"make them mutually exclusive: namespace: {{name: {a.id}-vs-{b.id}, range: [0, 0.5]}} on "
            f"'{a.id}' and the same name with range: [0.5, 1] on '{b.id}' (or give them disjoint scopes "
            "or time windows)",
        )
    if na.name != nb.name:
        return (
            f"their namespaces differ ('{na.name}' and '{nb.name}'); ranges only exclude each other "
            "within one namespace",
            f"use the same namespace name on both (e.g. '{na.name}') with disjoint ranges",
        )
    low, high = max(na.range[0], nb.range[0]), min(na.range[1], nb.range[1])
    if low < high:
        return (
            f"both are in namespace '{na.name}' but their ranges [{na.range[0]:g}, {na.range[1]:g}) and "
            f"[{nb.range[0]:g}, {nb.range[1]:g}) overlap on [{low:g}, {high:g})",
            f"make the ranges disjoint, e.g. [{na.range[0]:g}, {low:g}] on '{a.id}' and "
            f"[{low:g}, {nb.range[1]:g}] on '{b.id}'"
            if na.range[0] < low
            else "make the ranges disjoint, e.g. [0, 0.5] and [0.5, 1]",
        )
    return None
