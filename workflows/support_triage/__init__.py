"""Support triage: classify a ticket, retrieve policies, draft a cited reply, judge whether it resolves.

The seeds' worked example: can a small fast model replace the large one without resolving fewer tickets?
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
from routing_agent.workflows.support_triage.data import tickets
from routing_agent.workflows.support_triage.graph import build_graph
from routing_agent.workflows.support_triage.oracle import SupportOracle


def register_oracle() -> None:
    """Let simulated models answer support prompts (idempotent)."""
    register_oracle_once("support_triage", SupportOracle)


def session_input(item: Mapping[str, Any], session_id: str) -> dict[str, Any]:
    """Graph input for one session on a dataset ticket (ground truth only under ``reference``)."""
    return {
        "session_id": session_id,
        "subject": item["subject"],
        "ticket": item["ticket"],
        "tier": item["tier"],
        "channel": item["channel"],
        "reference": {
            "item_id": item["id"],
            "category": item["category"],
            "intent": item["intent"],
            "policy_ids": list(item["policy_ids"]),
            "resolution": item["resolution"],
            "difficulty": item["difficulty"],
            "complexity": item["complexity"],
        },
    }


WORKFLOW = WorkflowSpec(
    name="support",
    description="support triage: classifier → retriever → drafter → resolver (primary metric: resolved)",
    default_config=shipped_config("support.yaml"),
    unit_key="session_id",
    build=with_oracle(build_graph, register_oracle),
    items=tickets,
    session_input=session_input,
    outcome=recorded_outcome,
    register_oracle=register_oracle,
    agents=("classifier", "retriever", "drafter", "resolver"),
    headline=("resolved", "answer_correct", "category_correct", "error", "refusal"),
)
