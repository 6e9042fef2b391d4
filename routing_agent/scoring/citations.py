"""Citation stability (control vs test on the same input) and citation correctness (vs gold sources).

Set measures: Jaccard |A∩B| / |A∪B| and exact-set agreement (1.0 when the sets are equal). Two answers
that both cite nothing agree (1.0); one that cites nothing against one that cites something scores 0.0.

Order measure: rank-biased overlap, RBO (W. Webber, A. Moffat, J. Zobel, "A similarity measure for
indefinite rankings", ACM TOIS 28(4), 2010). RBO weighs agreement at depth d by p^(d-1): the top citations
count most, ``p`` (default 0.9) sets how steeply (the top 10 ranks carry ~86% of the weight at 0.9). We
compute the paper's extrapolated point estimate RBO_ext for finite lists of possibly different lengths
(its equation 32), which is 1.0 for identical lists and 0.0 for disjoint ones. It is hand-written (about
twenty lines) because no maintained library on PyPI provides it; the tests pin it against values worked
out by hand from the paper's definitions.

Citations are read in the order the answer gives them (see ``citation_list``), following the convention of
``routing_agent.telemetry.citations`` (which records the sorted set on spans).
"""

from __future__ import annotations

__all__ = [
    "MARKS",
    "CitationCorrectnessScorer",
    "CitationOptions",
    "CitationStabilityScorer",
    "citation_list",
    "exact_set",
    "jaccard",
    "rbo",
]

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field, field_validator

from routing_agent.config.fields import StrictModel
from routing_agent.scoring.base import BaseScorer, Pair, Sample, Score, Status
from routing_agent.scoring.regex import RegexError, compile_user_regex

_ID_FIELDS = ("id", "source_id", "source", "url", "uri", "document_title", "title")


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """|A∩B| / |A∪B| of the two sets; 1.0 when both are empty."""
    sa, sb = set(a), set(b)
    union = sa | sb
    return 1.0 if not union else len(sa & sb) / len(union)


def exact_set(a: Iterable[str], b: Iterable[str]) -> float:
    """1.0 when the two sets are equal, else 0.0."""
    return 1.0 if set(a) == set(b) else 0.0


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]  # type: ignore[func-returns-value]


def rbo(a: Sequence[str], b: Sequence[str], p: float = 0.9) -> float:
    """Extrapolated rank-biased overlap RBO_ext (Webber et al. 2010, eq. 32) of two rankings.

    Repeated items keep their first rank. Two empty rankings score 1.0; one empty ranking scores 0.0.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    short, long_ = _unique(a), _unique(b)
    if len(short) > len(long_):
        short, long_ = long_, short
    s, ell = len(short), len(long_)
    if ell == 0:
        return 1.0
    if s == 0:
        return 0.0
    seen_s: set[str] = set()
    seen_l: set[str] = set()
    overlap = 0  # X_d = |short[:d] ∩ long[:d]|; the short list stops growing after depth s
    x_s = 0
    weighted = 0.0  # sum over d of X_d / d * p^d, plus the extrapolation term for d > s
    for d in range(1, ell + 1):
        y = long_[d - 1]
        if d <= s:
            x = short[d - 1]
            overlap += 1 if x == y else (x in seen_l) + (y in seen_s)
            seen_s.add(x)
        else:
            overlap += y in seen_s
        seen_l.add(y)
        if d == s:
            x_s = overlap
        weighted += overlap / d * p**d
        if d > s:
            weighted += x_s * (d - s) / (s * d) * p**d
    tail = ((overlap - x_s) / ell + x_s / s) * p**ell
    return (1 - p) / p * weighted + tail


def _citation_id(item: Any, ignore_case: bool) -> str | None:
    value: str | None = None
    if isinstance(item, str):
        value = item.strip() or None
    elif isinstance(item, int | float) and not isinstance(item, bool):
        value = str(item)
    elif isinstance(item, Mapping):
        for name in _ID_FIELDS:
            found = item.get(name)
            if found is not None and str(found).strip():
                value = str(found).strip()
                break
    return value.casefold() if value is not None and ignore_case else value


def _from_message(message: BaseMessage, key: str) -> Any:
    for holder in (message.response_metadata, message.additional_kwargs):
        if isinstance(holder.get(key), list):
            return holder[key]
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            args = call.get("args")
            if isinstance(args, Mapping) and isinstance(args.get(key), list):
                return args[key]
    if isinstance(message.content, list):
        nested = [
            c
            for block in message.content
            if isinstance(block, Mapping) and isinstance(block.get(key), list)
            for c in block[key]
        ]
        if nested:
            return nested
    return message.text


MARKS = r"\[([^\[\]\s]{1,100})\]"
"""Default pattern of citation marks in prose: ``[doc-3]``, ``[12]``."""


def _marks(text: str, pattern: str | None) -> list[str]:
    if not pattern:
        return []
    found = compile_user_regex(pattern).findall(text)  # RE2: linear in the text, whatever the pattern
    return [m[0] if isinstance(m, tuple) else m for m in found]


def citation_list(
    value: Any, *, key: str = "citations", ignore_case: bool = False, pattern: str | None = MARKS
) -> list[str]:
    """The cited source ids of an output, in the order given, without repeats; [] when it cites nothing.

    Reads a list, a mapping's ``key`` entry, a chat message (metadata, tool-call args, content blocks or a
    JSON text, as in ``routing_agent.telemetry.citations``), a JSON string holding either, or else the
    marks in prose matching ``pattern`` (first group; default ``[id]``).
    """
    if isinstance(value, BaseMessage):
        value = _from_message(value, key)
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith(("{", "[")):
            return _unique_ids(_marks(text, pattern), ignore_case)
        try:
            value = json.loads(text)
        except ValueError:
            return _unique_ids(_marks(text, pattern), ignore_case)
    if isinstance(value, Mapping):
        value = value.get(key)
    if not isinstance(value, list | tuple):
        return []
    return _unique_ids(value, ignore_case)


def _unique_ids(items: Iterable[Any], ignore_case: bool) -> list[str]:
    ids = (_citation_id(item, ignore_case) for item in items)
    return _unique(i for i in ids if i is not None)


Measure = Literal["jaccard", "exact", "rbo", "precision", "recall"]


class CitationOptions(StrictModel):
    """Options of ``type: citations``."""

    against: Literal["control", "gold"] | None = None
    """``control``: stability of test vs control on the same input (pairs); ``gold``: correctness against
    the reference sources. Default: ``gold`` when the scorer has a ``reference_field``, else ``control``."""
    metric: Measure | None = None
    """The recorded value: default ``jaccard`` for stability, ``exact`` for correctness. Every other
    measure is recorded as a detail (``<name>.rbo`` …)."""
    p: float = Field(default=0.9, gt=0, lt=1)
    """RBO persistence: the weight of rank d is p^(d-1)."""
    key: str = "citations"
    """The key holding the citations in a dict or JSON output."""
    pattern: str | None = MARKS
    """Regex of citation marks in prose outputs (its first group is the id); null turns it off."""
    ignore_case: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                groups = compile_user_regex(value).groups
            except RegexError as exc:
                raise ValueError(str(exc)) from exc
            if groups < 1:
                raise ValueError("the pattern needs a group around the source id, e.g. \\[([^\\]]+)\\]")
        return value


def _measures(got: Sequence[str], want: Sequence[str], p: float, with_pr: bool) -> dict[str, float]:
    out = {"jaccard": jaccard(got, want), "exact": exact_set(got, want), "rbo": rbo(got, want, p)}
    if with_pr:
        sg, sw = set(got), set(want)
        out["precision"] = len(sg & sw) / len(sg) if sg else float(not sw)
        out["recall"] = len(sg & sw) / len(sw) if sw else 1.0
    return out


class CitationStabilityScorer(BaseScorer[Pair]):
    """``type: citations`` against control — does the test model cite what control cites for this input?"""

    pairwise = True

    def __init__(self, name: str, options: CitationOptions | None = None) -> None:
        super().__init__(name)
        self.options = options or CitationOptions(against="control")
        self.metric: Measure = self.options.metric or "jaccard"

    def score(self, item: Pair) -> Score:
        """The chosen measure of the two citation lists, the others as details."""
        o = self.options
        control = citation_list(item.control, key=o.key, ignore_case=o.ignore_case, pattern=o.pattern)
        test = citation_list(item.test, key=o.key, ignore_case=o.ignore_case, pattern=o.pattern)
        details = _measures(test, control, o.p, with_pr=self.metric in {"precision", "recall"})
        value = details.pop(self.metric)
        return Score(
            self.name,
            value,
            label=f"{value:.2f}",
            explanation=f"control {control} / test {test}",
            details=details,
        )


class CitationCorrectnessScorer(BaseScorer[Sample]):
    """``type: citations`` against gold — per-variant correctness of the cited sources."""

    def __init__(self, name: str, options: CitationOptions | None = None) -> None:
        super().__init__(name)
        self.options = options or CitationOptions(against="gold")
        self.metric: Measure = self.options.metric or "exact"

    def score(self, item: Sample) -> Score:
        """The chosen measure against the gold sources; skipped when the sample has none."""
        if item.reference is None:
            return Score(self.name, None, status=Status.SKIPPED, explanation="no gold sources")
        o = self.options
        gold = citation_list(item.reference, key=o.key, ignore_case=o.ignore_case, pattern=o.pattern)
        got = citation_list(item.output, key=o.key, ignore_case=o.ignore_case, pattern=o.pattern)
        details = _measures(got, gold, o.p, with_pr=True)
        value = details.pop(self.metric)
        return Score(
            self.name, value, label=f"{value:.2f}", explanation=f"gold {gold} / cited {got}", details=details
        )
