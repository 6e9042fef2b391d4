"""Text normalisation shared by the exact, fuzzy and field-level scorers, and turning outputs into text.

Steps, in order, each switchable in YAML: Unicode normal form (NFKC folds full-width digits and ligatures),
accent stripping, case folding, punctuation removal, whitespace stripping and collapsing.
"""

from __future__ import annotations

__all__ = ["NormalizeOptions", "Normalizer", "as_text"]

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ConfigDict

_SPACES = re.compile(r"\s+")


class NormalizeOptions(BaseModel):
    """How text is normalised before comparing (the same keys work on every text scorer)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ignore_case: bool = True
    strip: bool = True
    collapse_whitespace: bool = True
    remove_punctuation: bool = False
    strip_accents: bool = False
    unicode_form: Literal["NFC", "NFKC", "none"] = "NFKC"


class Normalizer:
    """A compiled ``NormalizeOptions``: ``normalizer(text) -> text``."""

    __slots__ = ("_accents", "_case", "_form", "_join", "_punct", "_spaces", "_strip")

    def __init__(self, options: NormalizeOptions | None = None) -> None:
        o = options or NormalizeOptions()
        self._form = None if o.unicode_form == "none" else o.unicode_form
        self._accents = o.strip_accents
        self._case = o.ignore_case
        self._punct = re.compile(r"[^\w\s]", re.UNICODE) if o.remove_punctuation else None
        self._join = o.collapse_whitespace and o.strip  # one fast ``" ".join(text.split())``
        self._spaces = o.collapse_whitespace and not o.strip
        self._strip = o.strip and not o.collapse_whitespace

    def __call__(self, text: str) -> str:
        if not text.isascii():
            if self._form is not None:
                text = unicodedata.normalize(self._form, text)
            if self._accents:
                decomposed = unicodedata.normalize("NFD", text)
                text = "".join(c for c in decomposed if not unicodedata.combining(c))
        if self._case:
            text = text.casefold()
        if self._punct is not None:
            text = self._punct.sub(" " if self._join or self._spaces else "", text)
        if self._join:
            return " ".join(text.split())
        if self._spaces:
            return _SPACES.sub(" ", text)
        return text.strip() if self._strip else text


def as_text(value: Any) -> str:
    """An output as text: a string as is, a chat message's text, ``None`` as "", else compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, BaseMessage):
        return value.text
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)
