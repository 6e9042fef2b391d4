"""Reference multi-agent LangGraph workflows, each with a routing node first and a shipped dataset.

``get_workflow("support" | "invoice" | "rag")`` returns its ``WorkflowSpec`` (graph builder, dataset,
session input, outcome metrics). The packages import lazily so one workflow never loads another's data.
"""

from __future__ import annotations

__all__ = ["WORKFLOWS", "get_workflow"]

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routing_agent.workflows.base import WorkflowSpec

WORKFLOWS = {
    "support": "routing_agent.workflows.support_triage",
    "invoice": "routing_agent.workflows.invoice_extraction",
    "rag": "routing_agent.workflows.rag_qa",
}
"""Workflow name → package."""


def get_workflow(name: str) -> WorkflowSpec:
    """The workflow called ``name`` (``KeyError`` lists the known ones)."""
    if name not in WORKFLOWS:
        raise KeyError(f"unknown workflow '{name}' (known: {', '.join(WORKFLOWS)})")
    spec: WorkflowSpec = import_module(WORKFLOWS[name]).WORKFLOW
    return spec
