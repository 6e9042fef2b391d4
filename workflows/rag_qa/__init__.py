"""RAG Q&A with citations: retrieve from a small shipped corpus, answer citing sources, check citations.

Citation stability — does the candidate cite the same sources as control on the same question? — is the
metric regulated industries care about.
"""

from __future__ import annotations

__all__ = ["WORKFLOW", "build_graph", "register_oracle", "session_input"]

from collections.abc import Mapping
from typing import Any

from routing_agent.workflows.base import (
    WorkflowSpec,
    recorded_outcome,
    register_oracle_once,
    shipped_config,
    with_oracle,
)
from routing_agent.workflows.rag_qa.data import questions
from routing_agent.workflows.rag_qa.graph import build_graph
from routing_agent.workflows.rag_qa.oracle import RagOracle


def register_oracle() -> None:
    """Let simulated models answer RAG prompts (idempotent)."""
    register_oracle_once("rag_qa", RagOracle)


def session_input(item: Mapping[str, Any], session_id: str) -> dict[str, Any]:
    """Graph input for one session on a dataset question (ground truth only under ``reference``)."""
    return {
        "session_id": session_id,
        "question": item["question"],
        "reference": {
            "item_id": item["id"],
            "answer": item["answer"],
            "gold_docs": list(item["gold_docs"]),
            "hops": item["hops"],
            "difficulty": item["difficulty"],
        },
    }


WORKFLOW = WorkflowSpec(
    name="rag",
    description="RAG Q&A: retriever → answerer → citer (metric that matters: citation stability)",
    default_config=shipped_config("rag.yaml"),
    unit_key="session_id",
    build=with_oracle(build_graph, register_oracle),
    items=questions,
    session_input=session_input,
    outcome=recorded_outcome,
    register_oracle=register_oracle,
    agents=("retriever", "answerer", "citer"),
    headline=("answer_correct", "citations_exact", "citation_precision", "error", "refusal"),
)
