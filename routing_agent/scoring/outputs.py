"""Stored outputs for offline scoring, and how a scorer entry finds its output, reference and input.

An ``OutputRecord`` is one agent output of one unit in one variant (a JSONL line): what the shadow runner
writes and what offline scoring reads. ``output`` may be the agent's output itself or the workflow's final
state; ``output_field`` / ``reference_field`` (dotted paths) then pick the value out of it.
"""

from __future__ import annotations

__all__ = [
    "INPUT_KEYS",
    "MISSING",
    "OutputRecord",
    "lookup",
    "read_field",
    "read_records",
    "write_records",
]

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

MISSING: Any = object()
"""Returned by ``read_field`` when the path does not exist."""

INPUT_KEYS = ("question", "query", "input", "prompt", "ticket", "subject")
"""State keys tried, in order, for the judge's question when the scorer names no ``input_field``."""


def read_field(data: Any, path: str, *, attributes: bool = True) -> Any:
    """The value at dotted ``path`` (mapping keys, list indices, attributes), or ``MISSING``.

    ``attributes=False``: mapping keys and list indices only (what plain JSON data has).
    """
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return MISSING
            current = current[part]
        elif isinstance(current, list | tuple) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(current) <= index < len(current):
                return MISSING
            current = current[index]
        elif attributes and hasattr(current, part) and not part.startswith("_"):
            current = getattr(current, part)
        else:
            return MISSING
    return current


def lookup(path: str | None, *roots: Any) -> Any:
    """The first root in which ``path`` exists; None when no root has it (or no path is given)."""
    if path is None:
        return None
    for root in roots:
        value = read_field(root, path)
        if value is not MISSING:
            return value
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseMessage):
        return {"type": value.type, "content": value.content, "response_metadata": value.response_metadata}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class OutputRecord:
    """One stored output: the coordinates of its run, the input, the output and the reference."""

    experiment: str
    variant: str
    unit_id: str
    output: Any
    agent: str | None = None
    input: Any = None
    reference: Any = None
    key: str | None = None
    """The input's id (dataset row id): records of different variants with one key form a pair."""
    segments: Mapping[str, str] = field(default_factory=dict)
    trace_id: str | None = None
    span_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (chat messages become dicts with type, content and metadata)."""
        return {
            "experiment": self.experiment,
            "variant": self.variant,
            "unit_id": self.unit_id,
            "agent": self.agent,
            "key": self.key,
            "input": _jsonable(self.input),
            "output": _jsonable(self.output),
            "reference": _jsonable(self.reference),
            "segments": dict(self.segments),
            "trace_id": self.trace_id,
            "span_id": self.span_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OutputRecord:
        """Inverse of ``to_json``."""
        return cls(
            experiment=str(data.get("experiment", "")),
            variant=str(data["variant"]),
            unit_id=str(data.get("unit_id") or data.get("key") or ""),
            output=data.get("output"),
            agent=data.get("agent"),
            input=data.get("input"),
            reference=data.get("reference"),
            key=data.get("key"),
            segments={str(k): str(v) for k, v in (data.get("segments") or {}).items()},
            trace_id=data.get("trace_id"),
            span_id=data.get("span_id"),
        )

    def roots(self) -> tuple[Any, ...]:
        """Where field paths are looked up: the output (a final state), the input, then the record."""
        as_record = {"output": self.output, "input": self.input, "reference": self.reference}
        return tuple(r for r in (self.output, self.input, as_record) if isinstance(r, Mapping))


def read_records(path: str | Path) -> Iterator[OutputRecord]:
    """Records from a JSONL file (blank lines skipped)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield OutputRecord.from_json(json.loads(line))


def write_records(path: str | Path, records: Iterable[OutputRecord]) -> int:
    """Append records to a JSONL file; returns how many were written."""
    n = 0
    with open(path, "a", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.to_json(), ensure_ascii=False, default=str) + "\n")
            n += 1
    return n
