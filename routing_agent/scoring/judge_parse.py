"""Reading a judge's reply: a JSON verdict first, then a labelled value, then a bare value.

Anything else — prose without a verdict, an empty reply, a score outside the scale or a fractional Likert
score — is unreadable and reported with the reason, never guessed. The judge scorer retries once on an
unreadable reply and then records the verdict as ``invalid``.
"""

from __future__ import annotations

__all__ = ["Reading", "parse_likert", "parse_winner"]

import math
import re
from dataclasses import dataclass
from typing import Any

from routing_agent.scoring.jsonparse import find_json_object, parse_json

_LABELLED_SCORE = re.compile(r"\b(?:score|rating|grade)\b\s*[:=]\s*\**\s*([-+]?\d+(?:\.\d+)?)", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(?:/\s*\d+)?\s*\.?\s*$")
_LABELLED_WINNER = re.compile(r"\bwinner\b\s*[:=]\s*\**\s*[\"']?(answer\s+)?(a|b|tie)\b", re.IGNORECASE)
_BARE_WINNER = re.compile(r"^\s*[\"']?(?:answer\s+)?(a|b|tie)[\"']?\s*\.?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Reading:
    """A parsed verdict: ``value`` (an int score, or ``"A"``/``"B"``/``"tie"``) or ``error``."""

    value: int | str | None
    reason: str | None = None
    error: str | None = None


def _reason(data: dict[str, Any]) -> str | None:
    for key in ("reason", "explanation", "rationale"):
        if isinstance(data.get(key), str):
            return str(data[key])
    return None


def _as_score(raw: Any, low: int, high: int) -> Reading:
    if isinstance(raw, bool):
        return Reading(None, error=f"score {raw!r} is not a number")
    if isinstance(raw, str):
        raw = raw.strip()
        try:
            raw = float(raw)
        except ValueError:
            return Reading(None, error=f"score {raw!r} is not a number")
    if not isinstance(raw, int | float) or not math.isfinite(raw):
        return Reading(None, error=f"score {raw!r} is not a number")
    if raw != int(raw):
        return Reading(None, error=f"score {raw:g} is not a whole number on the {low}-{high} scale")
    if not low <= raw <= high:
        return Reading(None, error=f"score {raw:g} is outside the {low}-{high} scale")
    return Reading(int(raw))


def _json_of(text: str) -> dict[str, Any] | None:
    parsed = parse_json(text, extract=False)
    if parsed.ok and isinstance(parsed.data, dict):
        return parsed.data
    return find_json_object(text)


def parse_likert(text: str, low: int = 1, high: int = 5) -> Reading:
    """A Likert score in [low, high] from a judge reply."""
    if not text or not text.strip():
        return Reading(None, error="empty reply")
    data = _json_of(text)
    if data is not None and "score" in data:
        found = _as_score(data["score"], low, high)
        return Reading(found.value, _reason(data), found.error)
    match = _LABELLED_SCORE.search(text) or _BARE_NUMBER.match(text)
    if match:
        return _as_score(match.group(1), low, high)
    return Reading(None, error="no score found")


def _winner(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    token = raw.strip().lower().removeprefix("answer").strip().strip("\"'.")
    return {"a": "A", "b": "B", "tie": "tie", "draw": "tie"}.get(token)


def parse_winner(text: str) -> Reading:
    """``"A"``, ``"B"`` or ``"tie"`` from a pairwise judge reply."""
    if not text or not text.strip():
        return Reading(None, error="empty reply")
    data = _json_of(text)
    if data is not None and "winner" in data:
        found = _winner(data["winner"])
        if found is None:
            return Reading(None, _reason(data), f"winner {data['winner']!r} is not A, B or tie")
        return Reading(found, _reason(data))
    match = _LABELLED_WINNER.search(text) or _BARE_WINNER.match(text)
    if match:
        found = _winner(match.group(match.lastindex or 1))
        if found is not None:
            return Reading(found)
    return Reading(None, error="no winner found")
