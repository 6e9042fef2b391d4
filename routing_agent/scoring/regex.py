"""User-supplied regular expressions run on RE2: linear time in the text, whatever the pattern.

Citation patterns and JSON-Schema ``pattern`` / ``patternProperties`` come from a YAML file, and Python's
``re`` backtracks: ``((a+)+)$`` takes minutes on 30 characters. RE2 (``google-re2``) never backtracks, so
matching costs O(pattern × text). It has no back-references or look-around: such a pattern is refused when
the config is validated, with its location, rather than run on a backtracking engine.
"""

from __future__ import annotations

__all__ = ["RegexError", "compile_user_regex", "schema_patterns"]

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import re2


class RegexError(ValueError):
    """A user pattern RE2 cannot run (bad syntax, back-references, look-around)."""


@lru_cache(maxsize=256)
def compile_user_regex(pattern: str) -> Any:
    """The compiled RE2 pattern (``search``/``findall``/``groups`` as in ``re``), else ``RegexError``."""
    try:
        return re2.compile(pattern)
    except re2.error as exc:
        raise RegexError(
            f"pattern {pattern!r} is not supported by the linear-time engine (RE2): {exc}; "
            "back-references and look-around are not allowed"
        ) from exc


def schema_patterns(schema: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``(location, pattern)`` of a JSON Schema: ``pattern`` values and ``patternProperties`` keys."""
    stack: list[tuple[str, Any]] = [(path, schema)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            pattern = node.get("pattern")
            if isinstance(pattern, str):
                yield f"{where}/pattern", pattern
            props = node.get("patternProperties")
            if isinstance(props, dict):
                for key in props:
                    if isinstance(key, str):
                        yield f"{where}/patternProperties", key
            stack.extend((f"{where}/{k}", v) for k, v in node.items() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((f"{where}/{i}", v) for i, v in enumerate(node) if isinstance(v, dict | list))
