"""Exact match after normalisation: 1.0 when the output equals the reference (or one of them), else 0.0."""

from __future__ import annotations

__all__ = ["ExactOptions", "ExactScorer", "as_number"]

import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from routing_agent.scoring.base import BaseScorer, Sample, Score, Status
from routing_agent.scoring.normalize import NormalizeOptions, Normalizer, as_text

_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")


class ExactOptions(NormalizeOptions):
    """Options of ``type: exact`` (normalisation keys plus these)."""

    numeric_tolerance: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    """When both sides read as numbers (``1,234.50`` and ``1234.5``), equal within this absolute tolerance."""
    alternatives: bool = True
    """A list reference against a non-list output means "any of these answers"."""


def as_number(text: str) -> float | None:
    """``text`` as a number (thousands separators and a leading currency sign allowed), else None."""
    t = text.strip().lstrip("$€£¥").strip()
    if not t or not _NUMBER.match(t) or t in {"+", "-", "."}:
        return None
    try:
        value = float(t.replace(",", ""))
    except ValueError:  # pragma: no cover - the pattern admits only numbers
        return None
    return value if math.isfinite(value) else None


def _references(reference: Any, output: Any, alternatives: bool) -> Sequence[Any]:
    if alternatives and isinstance(reference, list | tuple) and not isinstance(output, list | tuple):
        return reference
    return (reference,)


class ExactScorer(BaseScorer[Sample]):
    """``type: exact`` — value 1.0 on a match, 0.0 otherwise; skipped when the sample has no reference."""

    def __init__(self, name: str, options: ExactOptions | None = None) -> None:
        super().__init__(name)
        self.options = options or ExactOptions()
        self._norm = Normalizer(self.options)

    def matches(self, output: Any, reference: Any) -> bool:
        """Whether ``output`` matches ``reference`` (or one of its alternatives)."""
        got = self._norm(as_text(output))
        tol = self.options.numeric_tolerance
        got_number = as_number(got) if tol is not None else None
        for ref in _references(reference, output, self.options.alternatives):
            want = self._norm(as_text(ref))
            if got == want:
                return True
            if got_number is not None and tol is not None:
                want_number = as_number(want)
                if want_number is not None and abs(got_number - want_number) <= tol:
                    return True
        return False

    def score(self, item: Sample) -> Score:
        """1.0 when the normalised output equals the normalised reference."""
        if item.reference is None:
            return Score(self.name, None, status=Status.SKIPPED, explanation="no reference")
        hit = self.matches(item.output, item.reference)
        return Score(self.name, 1.0 if hit else 0.0, label="match" if hit else "mismatch")
