"""Field-level scoring of extracted JSON (e.g. invoice fields) against a reference object.

Per output: ``<name>`` is 1.0 when every scored field is correct (all-fields-correct), and the details are
``<name>.accuracy`` (share of fields correct), ``<name>.field.<path>`` (1/0 per field) and
``<name>.parse_error``. Fields are dotted paths (``vendor.name``, ``lines.0.amount``); by default every
top-level key of the reference. Each field compares ``exact`` (normalised text), ``fuzzy`` (rapidfuzz
similarity >= threshold), ``number`` (within ``tolerance``) or ``auto`` (``number`` when the reference value
is a number, else ``exact``). A field the output lacks is wrong; a reference value of null is matched by a
null or missing output field.
"""

from __future__ import annotations

__all__ = ["FieldRule", "JsonFieldsOptions", "JsonFieldsScorer", "get_path"]

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from routing_agent.config.fields import StrictModel
from routing_agent.scoring.base import BaseScorer, Sample, Score, Status
from routing_agent.scoring.exact import as_number
from routing_agent.scoring.fuzzy import FUZZY_METHODS, FuzzyMethod
from routing_agent.scoring.jsonparse import parse_json
from routing_agent.scoring.normalize import NormalizeOptions, Normalizer, as_text
from routing_agent.scoring.outputs import MISSING, read_field


class FieldRule(NormalizeOptions):
    """How one field is compared."""

    match: Literal["auto", "exact", "fuzzy", "number"] = "auto"
    threshold: float = Field(default=0.9, ge=0, le=1, allow_inf_nan=False)
    """``fuzzy``: the similarity at or above which the field is correct."""
    method: FuzzyMethod = "ratio"
    tolerance: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    """``number``/``auto``: the absolute difference still counted as equal (e.g. 0.01 for cents)."""


class JsonFieldsOptions(StrictModel):
    """Options of ``type: json_fields``."""

    fields: dict[str, FieldRule] | list[str] | None = None
    """Field paths to score (a list, or a mapping to per-field rules); default: the reference's keys."""
    default: FieldRule = Field(default_factory=FieldRule)
    """The rule for fields listed without their own."""
    allow_fences: bool = True
    extract: bool = True
    """Read a JSON object embedded in prose (field accuracy, not format, is measured here)."""


def get_path(data: Any, path: str) -> Any:
    """The value at dotted ``path`` in nested dicts/lists (no attributes), or ``MISSING``."""
    return read_field(data, path, attributes=False)


class _Field:
    __slots__ = ("fn", "norm", "rule")

    def __init__(self, rule: FieldRule) -> None:
        self.rule = rule
        self.norm = Normalizer(rule)
        self.fn = FUZZY_METHODS[rule.method]

    def correct(self, got: Any, want: Any) -> bool:
        if want is None:
            return got is MISSING or got is None
        if got is MISSING or got is None:
            return False
        match = self.rule.match
        if match in {"auto", "number"}:
            want_n = want if isinstance(want, int | float) and not isinstance(want, bool) else None
            if want_n is None and match == "number":
                want_n = as_number(as_text(want))
            if want_n is not None:
                got_n = as_number(as_text(got))
                return got_n is not None and abs(got_n - float(want_n)) <= self.rule.tolerance
            if match == "number":
                return False
        a, b = self.norm(as_text(got)), self.norm(as_text(want))
        if match == "fuzzy":
            return self.fn(a, b) / 100.0 >= self.rule.threshold
        return a == b


class JsonFieldsScorer(BaseScorer[Sample]):
    """``type: json_fields`` — all-fields-correct, with per-field and accuracy details."""

    def __init__(self, name: str, options: JsonFieldsOptions | None = None) -> None:
        super().__init__(name)
        self.options = options or JsonFieldsOptions()
        self._default = _Field(self.options.default)
        fields = self.options.fields
        self._fields: dict[str, _Field] | None
        if fields is None:
            self._fields = None
        elif isinstance(fields, list):
            self._fields = {f: self._default for f in fields}
        else:
            self._fields = {f: _Field(rule) for f, rule in fields.items()}

    def score(self, item: Sample) -> Score:
        """All-fields-correct (1/0) with accuracy and per-field details."""
        reference = parse_json(item.reference, extract=True)
        if not reference.ok or not isinstance(reference.data, Mapping):
            return Score(self.name, None, status=Status.SKIPPED, explanation="no reference object")
        fields = self._fields or {str(k): self._default for k in reference.data}
        if not fields:
            return Score(self.name, None, status=Status.SKIPPED, explanation="no fields to score")
        output = parse_json(item.output, allow_fences=self.options.allow_fences, extract=self.options.extract)
        data = output.data if output.ok and isinstance(output.data, Mapping) else {}
        details: dict[str, float] = {
            "parse_error": 0.0 if output.ok and isinstance(output.data, Mapping) else 1.0
        }
        wrong: list[str] = []
        for path, rule in fields.items():
            want = get_path(reference.data, path)
            ok = rule.correct(get_path(data, path), None if want is MISSING else want)
            details[f"field.{path}"] = 1.0 if ok else 0.0
            if not ok:
                wrong.append(path)
        accuracy = 1.0 - len(wrong) / len(fields)
        details["accuracy"] = accuracy
        explanation = output.error if not output.ok else (f"wrong: {', '.join(wrong)}" if wrong else None)
        return Score(
            self.name,
            0.0 if wrong else 1.0,
            label=f"{len(fields) - len(wrong)}/{len(fields)}",
            explanation=explanation,
            details=details,
        )
