"""A small BM25 keyword index over a shipped corpus (the retrieval step of the reference workflows).

BM25 (Robertson & Zaragoza) with the usual k1 = 1.5, b = 0.75, lower-cased word tokens and a short stop
list. A few dozen documents do not justify a search-engine dependency.
"""

from __future__ import annotations

__all__ = ["KeywordIndex", "tokenize"]

import math
import re
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a an and are as at be but by can do does for from has have how i if in is it its me my no not of on "
    "or our so that the their there this to was we what when where which who why will with you your"
)
_STOP = frozenset(_STOP_WORDS.split())


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without stop words."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


class KeywordIndex:
    """BM25 over ``(id, text)`` documents."""

    def __init__(self, docs: Sequence[tuple[str, str]], *, k1: float = 1.5, b: float = 0.75) -> None:
        self.ids = [doc_id for doc_id, _ in docs]
        self._tf = [Counter(tokenize(text)) for _, text in docs]
        self._len = [sum(tf.values()) for tf in self._tf]
        self._avg = sum(self._len) / max(len(self._len), 1)
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        n = len(docs)
        self._idf = {term: math.log(1 + (n - f + 0.5) / (f + 0.5)) for term, f in df.items()}
        self.k1, self.b = k1, b

    def scores(self, query: str) -> list[tuple[str, float]]:
        """``(id, score)`` for every document, best first (ties keep corpus order)."""
        terms = tokenize(query)
        out = []
        for i, tf in enumerate(self._tf):
            norm = self.k1 * (1 - self.b + self.b * self._len[i] / self._avg)
            score = sum(
                self._idf.get(t, 0.0) * tf[t] * (self.k1 + 1) / (tf[t] + norm) for t in terms if t in tf
            )
            out.append((self.ids[i], score))
        return sorted(out, key=lambda item: -item[1])

    def search(self, query: str, k: int) -> list[str]:
        """The ids of the ``k`` best-matching documents with a positive score."""
        return [doc_id for doc_id, score in self.scores(query)[:k] if score > 0]
