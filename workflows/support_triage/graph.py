"""The support-triage graph: route → classifier → retriever → drafter → resolver → record.

Primary metric: ``resolved`` (the resolver closed the ticket). With a ``reference`` in the input (offline
evaluation, simulation), ``record`` also scores the session against ground truth: ``category_correct``,
``policy_hit``, ``answer_correct`` (the draft states the right resolution and cites its policy).
"""

from __future__ import annotations

__all__ = ["SupportState", "build_graph", "outcome"]

import operator
from collections.abc import Mapping
from typing import Annotated, Any

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.graph import RoutingNode, RoutingState
from routing_agent.workflows.base import AgentError, pipeline_graph
from routing_agent.workflows.support_triage import agents
from routing_agent.workflows.support_triage.oracle import draft_resolves


class SupportState(RoutingState, total=False):
    """Graph state of one support session."""

    session_id: str
    subject: str
    ticket: str
    tier: str
    channel: str
    category: str | None
    complexity: str | None
    """easy | complex: asked only when an experiment declares the segment ``complexity``."""
    candidates: list[str]
    policies: list[str]
    draft: str | None
    citations: list[str]
    resolved: bool
    resolution_reason: str
    errors: Annotated[list[AgentError], operator.add]
    refusals: Annotated[list[str], operator.add]
    reference: dict[str, Any]
    """Ground truth for scoring (dataset runs only); agents never read it."""
    outcome: dict[str, Any]


def outcome(state: Mapping[str, Any]) -> dict[str, Any]:
    """The session's metrics (1.0 / 0.0 for binary ones)."""
    errors = state.get("errors") or []
    out: dict[str, Any] = {
        "resolved": 1.0 if state.get("resolved") else 0.0,
        "error": 1.0 if errors else 0.0,
        "refusal": 1.0 if state.get("refusals") else 0.0,
        "category": state.get("category"),
        "complexity": state.get("complexity"),
        "citations": list(state.get("citations") or []),
        "n_citations": float(len(state.get("citations") or [])),
        "failed_agents": sorted({e["agent"] for e in errors} | set(state.get("refusals") or [])),
    }
    ref = state.get("reference")
    if ref:
        out["category_correct"] = 1.0 if state.get("category") == ref["category"] else 0.0
        out["policy_hit"] = 1.0 if set(state.get("policies") or []) & set(ref["policy_ids"]) else 0.0
        out["answer_correct"] = 1.0 if draft_resolves(state.get("draft") or "", ref) else 0.0
    return out


def build_graph(config: ExperimentsConfig, store: Any = None, *, routing: RoutingNode | None = None) -> Any:
    """The compiled graph. ``store``: an assignment store or URL (ignored when ``routing`` is given).

    When an experiment declares the segment ``complexity``, the classifier also rates the ticket easy or
    complex (a second structured call), so the segment comes from the classifier's output."""
    segmented = any("complexity" in spec.segments for spec in config.experiments)
    return pipeline_graph(
        SupportState,
        routing or RoutingNode(config, store=store),
        [
            ("classifier", agents.triage if segmented else agents.classifier),
            ("retriever", agents.retriever),
            ("drafter", agents.drafter),
            ("resolver", agents.resolver),
        ],
        skip_last_unless="draft",
        outcome=outcome,
    )
