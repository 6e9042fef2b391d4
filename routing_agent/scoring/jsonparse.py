"""Reading JSON out of model outputs: strict, fenced, or embedded in prose.

``parse_json`` returns a ``Parsed`` record instead of raising, so scorers count parse failures as data.
Already-structured outputs (a dict or list from structured output) are taken as parsed.
"""

from __future__ import annotations

__all__ = ["MAX_EXTRACT_ATTEMPTS", "Parsed", "find_json_object", "parse_json"]

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n(.*?)\n?```$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Parsed:
    """The result of reading JSON: ``ok`` with ``data``, or ``error`` saying why not."""

    ok: bool
    data: Any = None
    error: str | None = None


def _text_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, BaseMessage):
        return value.text
    return None


def parse_json(value: Any, *, allow_fences: bool = True, extract: bool = False) -> Parsed:
    """Parse ``value`` as JSON.

    ``allow_fences`` accepts a whole-output Markdown code fence (```json … ```); ``extract`` also takes the
    first JSON object embedded in surrounding prose.
    """
    if isinstance(value, Mapping):
        return Parsed(True, dict(value))
    if isinstance(value, list | tuple):
        return Parsed(True, list(value))
    if isinstance(value, int | float | bool) or value is None:
        return Parsed(False, error="no output") if value is None else Parsed(True, value)
    text = _text_of(value)
    if text is None:
        return Parsed(False, error=f"cannot read JSON from {type(value).__name__}")
    text = text.strip()
    if not text:
        return Parsed(False, error="empty output")
    if allow_fences:
        fenced = _FENCE.match(text)
        if fenced:
            text = fenced.group(1).strip()
    try:
        return Parsed(True, json.loads(text))
    except ValueError as exc:
        if extract:
            found = find_json_object(text)
            if found is not None:
                return Parsed(True, found)
        return Parsed(False, error=f"invalid JSON: {exc}")


MAX_EXTRACT_ATTEMPTS = 32
"""``{`` positions tried by ``find_json_object``: each attempt may read to the end of the text, so an
unbounded scan of ``{{{{…`` is quadratic; 32 attempts keep it linear."""


def find_json_object(text: str, *, attempts: int = MAX_EXTRACT_ATTEMPTS) -> dict[str, Any] | None:
    """The first decodable JSON object in ``text`` (trying the first ``attempts`` ``{``), or None."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1 and attempts > 0:
        attempts -= 1
        try:
            data, _ = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(data, dict):
            return data
        start = text.find("{", start + 1)  # pragma: no cover - raw_decode at "{" yields a dict
    return None
