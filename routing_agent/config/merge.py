"""Merging the file-level sections of several YAML documents, refusing conflicting values.

``default_model`` and ``telemetry`` are merged whole; ``agents``, ``prices`` and ``simulated_profiles``
key by key. The same value declared twice is fine; two different values are an error naming both places.
"""

from __future__ import annotations

__all__ = ["KEYED_SECTIONS", "Sections"]

from typing import Any

from routing_agent.config.messages import format_path
from routing_agent.config.yaml_source import Document, Path

KEYED_SECTIONS = ("agents", "prices", "simulated_profiles")


class Sections:
    """File-level sections seen so far, with where each value came from."""

    def __init__(self) -> None:
        self._whole: dict[str, tuple[Any, str]] = {}
        self._keyed: dict[str, dict[str, tuple[Any, str]]] = {name: {} for name in KEYED_SECTIONS}

    def add(self, name: str, value: Any, doc: Document) -> list[tuple[Path, str, str]]:
        """Merge one validated section of ``doc``; returns (path, message, fix) for each conflict."""
        if value is None:
            return []
        if name not in KEYED_SECTIONS:
            return self._put(self._whole, name, value, doc, (name,))
        problems: list[tuple[Path, str, str]] = []
        for key, item in value.items():
            problems += self._put(self._keyed[name], key, item, doc, (name, key))
        return problems

    def merged(self) -> dict[str, Any]:
        """Keyword arguments for ``ExperimentsConfig`` (without experiments)."""
        out: dict[str, Any] = {name: value for name, (value, _) in self._whole.items()}
        for name, entries in self._keyed.items():
            out[name] = {key: value for key, (value, _) in entries.items()}
        return out

    def agents(self) -> list[str]:
        """Agent names declared in any ``agents:`` section."""
        return list(self._keyed["agents"])

    @staticmethod
    def _put(
        table: dict[str, tuple[Any, str]], key: str, value: Any, doc: Document, path: Path
    ) -> list[tuple[Path, str, str]]:
        place = f"{doc.source}:{doc.line_of(path)}"
        previous = table.setdefault(key, (value, place))
        if previous[0] == value or previous[1] == place:
            return []
        return [
            (
                path,
                f"'{format_path(path)}' is already set to a different value at {previous[1]}",
                "declare it once, or give both places the same value",
            )
        ]
