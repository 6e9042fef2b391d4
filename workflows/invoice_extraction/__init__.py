"""Invoice extraction: parse the document, extract fields as JSON, validate dates and totals.

The seeds' cascading-failure example: the validator depends on the extractor's date format, so a candidate
extractor that slips into US dates breaks payment terms downstream even though the validator is unchanged.
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
from routing_agent.workflows.invoice_extraction.data import invoices
from routing_agent.workflows.invoice_extraction.graph import build_graph
from routing_agent.workflows.invoice_extraction.oracle import InvoiceOracle


def register_oracle() -> None:
    """Let simulated models answer invoice prompts (idempotent)."""
    register_oracle_once("invoice_extraction", InvoiceOracle)


def session_input(item: Mapping[str, Any], session_id: str) -> dict[str, Any]:
    """Graph input for one request on a dataset invoice (ground truth only in ``expected``/``reference``)."""
    return {
        "invoice_id": session_id,
        "document": item["document"],
        "expected": dict(item["expected"]),
        "reference": {
            "item_id": item["id"],
            "header": dict(item["header"]),
            "terms_days": item["terms_days"],
            "consistent": item["consistent"],
            "approve": item["approve"],
            "difficulty": item["difficulty"],
            "layout": item["layout"],
            "date_style": item["date_style"],
        },
    }


WORKFLOW = WorkflowSpec(
    name="invoice",
    description="invoice extraction: parser → extractor (JSON) → validator (primary metric: field_accuracy)",
    default_config=shipped_config("invoice.yaml"),
    unit_key="invoice_id",
    build=with_oracle(build_graph, register_oracle),
    items=invoices,
    session_input=session_input,
    outcome=recorded_outcome,
    register_oracle=register_oracle,
    agents=("parser", "extractor", "validator"),
    headline=("field_accuracy", "json_valid", "dates_iso", "terms_correct", "error"),
)
