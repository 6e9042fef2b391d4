"""The shipped datasets are exactly what their seeded generators produce, and are usable ground truth."""

from __future__ import annotations

import importlib
from collections import Counter

import pytest

from evals.datasets.common import dump_jsonl
from routing_agent.workflows import get_workflow


@pytest.mark.parametrize("module", ["support_tickets", "invoices", "rag_corpus"])
def test_committed_files_match_their_generator(module: str) -> None:
    build = importlib.import_module(f"evals.datasets.{module}").build
    files = build()
    assert files == build()  # deterministic
    for path, rows in files.items():
        assert path.read_text("utf-8") == dump_jsonl(rows), (
            f"{path} is stale: python -m evals.datasets.{module}"
        )
        assert 30 <= len(rows) <= 1000


def test_ground_truth_is_consistent_and_keys_are_unique() -> None:
    tickets = get_workflow("support").items()
    assert len({t["ticket"] for t in tickets}) == len(tickets)
    assert set(Counter(t["category"] for t in tickets)) == {
        "billing", "shipping", "returns", "account", "technical", "cancellation"
    }  # fmt: skip
    assert all(0 <= t["difficulty"] <= 1 for t in tickets)
    invoices = get_workflow("invoice").items()
    for row in invoices:
        e = row["expected"]
        if row["consistent"]:
            assert abs(e["subtotal"] + e["tax"] - e["total"]) < 0.011
        assert row["approve"] == (row["consistent"] and row["header"]["doc_type"] == "invoice")
    questions = get_workflow("rag").items()
    from routing_agent.workflows.rag_qa.data import corpus

    docs = corpus()
    for q in questions:
        assert q["answer"] in docs[q["gold_docs"][-1]]["text"]  # the gold page states the answer
