"""Prompts of the RAG agents and the parsing of their answers."""

from __future__ import annotations

__all__ = [
    "ANSWERER_SYSTEM",
    "CITER_SYSTEM",
    "RETRIEVER_SYSTEM",
    "parse_citations",
    "parse_doc_ids",
    "passage_block",
]

import re
from collections.abc import Mapping, Sequence
from typing import Any

from routing_agent.workflows.base import first_mentions, listed_entries

RETRIEVER_SYSTEM = (
    "You rerank search results for a question about the Nimbus documentation. Reply with the ids of the "
    "passages needed to answer it, most relevant first, comma-separated, or 'none'."
)
ANSWERER_SYSTEM = (
    "Answer the question using only the passages. Cite each passage you use as [doc-id]. If the passages "
    "do not contain the answer, say so."
)
CITER_SYSTEM = (
    "You check citations. Given a question, an answer and the passages, reply with the ids of the passages "
    "that support the answer, comma-separated, or 'none'."
)

_DOC_ID = re.compile(r"doc-\d{3}")
_CITATION = re.compile(r"\[(doc-\d{3})\]")


def passage_block(ids: Sequence[str], corpus: Mapping[str, Mapping[str, Any]]) -> str:
    """Passages as listed in a prompt: ``[id] title: text`` per line."""
    return listed_entries(ids, corpus)


def parse_doc_ids(text: str, allowed: Sequence[str]) -> list[str]:
    """Document ids named in ``text`` that are among ``allowed``, in order of first mention."""
    return first_mentions(_DOC_ID, text, allowed)


def parse_citations(text: str) -> list[str]:
    """``[doc-…]`` citations in an answer, in order of first mention."""
    return first_mentions(_CITATION, text)
