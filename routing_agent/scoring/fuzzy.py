"""Fuzzy match with rapidfuzz: a similarity in [0, 1], or 1/0 against a threshold.

Methods are rapidfuzz's ``fuzz`` scorers: ``ratio`` (normalised Indel similarity), ``partial_ratio``
(best-matching substring), ``token_sort_ratio`` (word order ignored), ``token_set_ratio`` (word sets:
extra words on one side are forgiven), ``WRatio`` and ``QRatio``. Batches use ``rapidfuzz.process.cpdist``
(element-wise, in C) on one core.
"""

from __future__ import annotations

__all__ = ["FUZZY_METHODS", "FuzzyOptions", "FuzzyScorer"]

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field
from rapidfuzz import fuzz, process

from routing_agent.scoring.base import EMPTY, BaseScorer, Sample, Score, Status
from routing_agent.scoring.normalize import NormalizeOptions, Normalizer, as_text

FuzzyMethod = Literal["ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio", "WRatio", "QRatio"]
FUZZY_METHODS: dict[str, Callable[..., float]] = {
    "ratio": fuzz.ratio,
    "partial_ratio": fuzz.partial_ratio,
    "token_sort_ratio": fuzz.token_sort_ratio,
    "token_set_ratio": fuzz.token_set_ratio,
    "WRatio": fuzz.WRatio,
    "QRatio": fuzz.QRatio,
}


class FuzzyOptions(NormalizeOptions):
    """Options of ``type: fuzzy`` (normalisation keys plus these)."""

    method: FuzzyMethod = "ratio"
    threshold: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    """Set it for a binary metric (1.0 when similarity >= threshold, the similarity kept as a detail)."""


class FuzzyScorer(BaseScorer[Sample]):
    """``type: fuzzy`` — similarity of output and reference; the best alternative for a list reference."""

    def __init__(self, name: str, options: FuzzyOptions | None = None) -> None:
        super().__init__(name)
        self.options = options or FuzzyOptions()
        self._norm = Normalizer(self.options)
        self._fn = FUZZY_METHODS[self.options.method]

    def similarity(self, output: Any, reference: Any) -> float:
        """Similarity in [0, 1] after normalisation (max over alternatives for a list reference)."""
        got = self._norm(as_text(output))
        alternatives = isinstance(reference, list | tuple) and not isinstance(output, list | tuple)
        refs = reference if alternatives else [reference]
        return max((self._fn(got, self._norm(as_text(r))) for r in refs), default=0.0) / 100.0

    def _score(self, sim: float) -> Score:
        threshold = self.options.threshold
        if threshold is None:
            return Score(self.name, sim, label=f"{sim:.2f}", details=EMPTY)
        hit = sim >= threshold
        return Score(
            self.name, 1.0 if hit else 0.0, label="match" if hit else "mismatch", details={"similarity": sim}
        )

    def score(self, item: Sample) -> Score:
        """Similarity (or 1/0 against the threshold); skipped without a reference."""
        if item.reference is None:
            return Score(self.name, None, status=Status.SKIPPED, explanation="no reference")
        return self._score(self.similarity(item.output, item.reference))

    def score_batch(self, items: Sequence[Sample]) -> list[Score]:
        """Vectorised: one ``cpdist`` call for every item with a single (non-list) reference."""
        out: list[Score | None] = [None] * len(items)
        idx: list[int] = []
        queries: list[str] = []
        choices: list[str] = []
        norm = self._norm
        for i, item in enumerate(items):
            ref = item.reference
            if ref is None:
                out[i] = Score(self.name, None, status=Status.SKIPPED, explanation="no reference")
            elif isinstance(ref, list | tuple) and not isinstance(item.output, list | tuple):
                out[i] = self.score(item)
            else:
                idx.append(i)
                queries.append(norm(as_text(item.output)))
                choices.append(norm(as_text(ref)))
        if idx:
            sims = process.cpdist(queries, choices, scorer=self._fn, dtype=np.float64, workers=1).tolist()
            for i, sim in zip(idx, sims, strict=True):
                out[i] = self._score(float(sim) / 100.0)
        return [s for s in out if s is not None]
