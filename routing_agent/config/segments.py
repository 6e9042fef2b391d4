"""Segments declared in an experiment's YAML: a state key, or the value an agent produced.

::

    segments:
      - tier                                          # a state key (read at routing and at the outcome)
      - {name: category, from: classifier.category}   # what the agent 'classifier' produced
      - {name: intent, from: {agent: triage.v2, field: result.intent}}   # an agent name with a dot

``from: <agent>.<field>`` names an agent (the YAML's agent name: a LangGraph node, a ``create_agent`` name)
and a field of its output — a key of the node's state update, or a field of its structured output, JSON
content or tool-call arguments (dotted for nested fields). ``from: <agent>`` alone reads the field named
like the segment. How the value is found in a run is ``routing_agent.graph.agent_outputs``.
"""

from __future__ import annotations

__all__ = ["SegmentSource", "split_segments"]

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from routing_agent.config.fields import AgentName, StrictModel
from routing_agent.config.rules import SpecProblem

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*$")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$")
_FIX = "write {name: category, from: classifier.category} (agent 'classifier', field 'category')"


class SegmentSource(StrictModel):
    """Where a segment's value comes from: ``agent``'s output, at ``path`` (nested field names)."""

    agent: AgentName
    path: tuple[str, ...] = Field(min_length=1)

    @property
    def field(self) -> str:
        """The dotted field, as written."""
        return ".".join(self.path)


def _source(name: str, raw: Any, loc: tuple[str | int, ...]) -> SegmentSource:
    if isinstance(raw, Mapping):
        unknown = sorted(str(k) for k in raw if k not in {"agent", "field"})
        if unknown or not isinstance(raw.get("agent"), str):
            raise SpecProblem(
                "'from' as a mapping takes 'agent' and 'field' "
                f"(got {', '.join(map(str, raw)) or 'nothing'})",
                fix="write from: {agent: triage.v2, field: result.intent}, or from: classifier.category",
                loc=loc,
            )
        agent, field = str(raw["agent"]), raw.get("field", name)
    elif isinstance(raw, str) and raw.strip():
        agent, dot, field = raw.strip().partition(".")
        field = field if dot else name
    else:
        raise SpecProblem("'from' must name an agent and a field of its output", fix=_FIX, loc=loc)
    if not isinstance(field, str) or not _FIELD.match(field):
        what = f"'{field}' is not a field name (letters, digits, '_' and '-', nested with '.')"
        raise SpecProblem(what, fix=_FIX, loc=loc)
    try:
        return SegmentSource(agent=agent, path=tuple(field.split(".")))
    except ValueError:
        raise SpecProblem(
            f"'{agent}' is not an agent name (ASCII letters, digits and _ . : / -)", fix=_FIX, loc=loc
        ) from None


def split_segments(data: Any) -> Any:
    """An experiment's raw mapping with ``segments`` as names and ``segment_sources`` filled from the items
    that say ``from:`` (a pydantic ``mode="before"`` step; other values are left to the field's check)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("segments"), list | tuple):
        return data
    items = list(data["segments"])
    if not any(isinstance(item, Mapping) for item in items):
        return data
    names: list[Any] = []
    sources: dict[str, SegmentSource] = {}
    problems: list[SpecProblem] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            names.append(item)
            continue
        extra = sorted(str(k) for k in item if k not in {"name", "from"})
        name = item.get("name")
        if extra or not isinstance(name, str) or not _NAME.match(name):
            what = f"unknown key(s) {', '.join(extra)}" if extra else "a segment needs a 'name'"
            problems.append(SpecProblem(what, fix=_FIX, loc=("segments", i)))
            continue
        if name in sources or name in names:
            problems.append(SpecProblem(f"segment '{name}' is declared twice", fix="remove the repeat",
                                        loc=("segments", i, "name")))  # fmt: skip
            continue
        names.append(name)
        if "from" in item:
            try:
                sources[name] = _source(name, item["from"], ("segments", i, "from"))
            except SpecProblem as problem:
                problems.append(problem)
    SpecProblem.raise_all(problems)
    return {**data, "segments": names, "segment_sources": sources}
