"""The shipped RAG dataset: the documentation corpus and the questions."""

from __future__ import annotations

__all__ = ["DATA_DIR", "corpus", "corpus_index", "questions"]

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from routing_agent.workflows.base import load_jsonl
from routing_agent.workflows.retrieval import KeywordIndex

DATA_DIR = Path(__file__).resolve().parent / "data"


def questions() -> tuple[dict[str, Any], ...]:
    """Questions with gold answers and gold documents (``evals/datasets/rag_corpus.py``)."""
    return load_jsonl(DATA_DIR / "questions.jsonl")


@cache
def corpus() -> Mapping[str, Mapping[str, Any]]:
    """Document id → document row."""
    return {row["id"]: row for row in load_jsonl(DATA_DIR / "corpus.jsonl")}


@cache
def corpus_index() -> KeywordIndex:
    """BM25 over document titles and texts."""
    return KeywordIndex([(doc, f"{row['title']} {row['text']}") for doc, row in corpus().items()])
