"""The shipped support dataset: labelled tickets and the policy knowledge base."""

from __future__ import annotations

__all__ = ["DATA_DIR", "policies", "policy_index", "tickets"]

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from routing_agent.workflows.base import load_jsonl
from routing_agent.workflows.retrieval import KeywordIndex

DATA_DIR = Path(__file__).resolve().parent / "data"


def tickets() -> tuple[dict[str, Any], ...]:
    """Labelled tickets (``evals/datasets/support_tickets.py``)."""
    return load_jsonl(DATA_DIR / "tickets.jsonl")


@cache
def policies() -> Mapping[str, Mapping[str, Any]]:
    """Policy id → policy row."""
    return {row["id"]: row for row in load_jsonl(DATA_DIR / "policies.jsonl")}


@cache
def policy_index() -> KeywordIndex:
    """BM25 over policy titles and texts."""
    return KeywordIndex([(pid, f"{row['title']} {row['text']}") for pid, row in policies().items()])
