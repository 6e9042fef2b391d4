"""The shipped invoice dataset."""

from __future__ import annotations

__all__ = ["DATA_DIR", "invoices"]

from pathlib import Path
from typing import Any

from routing_agent.workflows.base import load_jsonl

DATA_DIR = Path(__file__).resolve().parent / "data"


def invoices() -> tuple[dict[str, Any], ...]:
    """Invoice documents with their ground truth (``evals/datasets/invoices.py``)."""
    return load_jsonl(DATA_DIR / "invoices.jsonl")
