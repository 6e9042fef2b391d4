"""The RAG Q&A graph: route → retriever → answerer → citer → record.

Outcome metrics: ``citations`` (the final cited document ids — what citation stability compares between
variants on the same question), ``n_citations``; against ground truth (``reference``): ``answer_correct``,
``citation_precision``, ``citation_recall``, ``citations_exact``, ``grounded`` (right answer citing a gold
document) and ``retrieval_hit`` (every gold document reached the answerer).
"""

from __future__ import annotations

__all__ = ["RagState", "build_graph", "outcome"]

import operator
from collections.abc import Mapping
from typing import Annotated, Any

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.graph import RoutingNode, RoutingState
from routing_agent.workflows.base import AgentError, pipeline_graph
from routing_agent.workflows.rag_qa import agents


class RagState(RoutingState, total=False):
    """Graph state of one Q&A session."""

    session_id: str
    question: str
    hits: list[str]
    passages: list[str]
    answer: str | None
    answer_citations: list[str]
    citations: list[str]
    errors: Annotated[list[AgentError], operator.add]
    refusals: Annotated[list[str], operator.add]
    reference: dict[str, Any]
    """Ground truth for scoring (dataset runs only); agents never read it."""
    outcome: dict[str, Any]


def outcome(state: Mapping[str, Any]) -> dict[str, Any]:
    """The session's metrics (1.0 / 0.0 for binary ones)."""
    errors = state.get("errors") or []
    cited = list(state.get("citations") or [])
    out: dict[str, Any] = {
        "answered": 1.0 if state.get("answer") else 0.0,
        "citations": cited,
        "n_citations": float(len(cited)),
        "error": 1.0 if errors else 0.0,
        "refusal": 1.0 if state.get("refusals") else 0.0,
        "failed_agents": sorted({e["agent"] for e in errors} | set(state.get("refusals") or [])),
    }
    ref = state.get("reference")
    if ref:
        gold = set(ref["gold_docs"])
        hit = gold & set(cited)
        correct = bool(state.get("answer")) and ref["answer"] in (state.get("answer") or "")
        out["answer_correct"] = 1.0 if correct else 0.0
        out["citation_precision"] = len(hit) / len(cited) if cited else 0.0
        out["citation_recall"] = len(hit) / len(gold)
        out["citations_exact"] = 1.0 if set(cited) == gold else 0.0
        out["grounded"] = 1.0 if correct and hit else 0.0
        out["retrieval_hit"] = 1.0 if gold <= set(state.get("passages") or []) else 0.0
    return out


def build_graph(config: ExperimentsConfig, store: Any = None, *, routing: RoutingNode | None = None) -> Any:
    """The compiled graph. ``store``: an assignment store or URL (ignored when ``routing`` is given)."""
    return pipeline_graph(
        RagState,
        routing or RoutingNode(config, store=store),
        [("retriever", agents.retriever), ("answerer", agents.answerer), ("citer", agents.citer)],
        skip_last_unless="answer",
        outcome=outcome,
    )
