"""The invoice-extraction graph: route → parser → extractor → validator → record.

Outcome metrics: ``json_valid`` (the extractor replied with exactly a JSON object of the six fields with the
right types), ``dates_iso``, ``approved``; against ground truth (``expected`` / ``reference`` in the input):
``field_accuracy`` (share of the six fields right), ``fields_correct`` (all six), ``header_correct``,
``terms_correct`` (the validator's payment terms — wrong when the extractor's dates were misread) and
``decision_correct`` (approved exactly the invoices that should be paid).
"""

from __future__ import annotations

__all__ = ["InvoiceState", "build_graph", "field_matches", "outcome"]

import operator
from collections.abc import Mapping
from typing import Annotated, Any

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.graph import RoutingNode, RoutingState
from routing_agent.workflows.base import AgentError, pipeline_graph
from routing_agent.workflows.invoice_extraction import agents, prompts


class InvoiceState(RoutingState, total=False):
    """Graph state of one invoice request."""

    invoice_id: str
    document: str
    header: dict[str, Any] | None
    extracted_text: str | None
    extracted: dict[str, Any] | None
    validation: dict[str, Any] | None
    approved: bool
    errors: Annotated[list[AgentError], operator.add]
    refusals: Annotated[list[str], operator.add]
    expected: dict[str, Any]
    """Ground-truth fields for scoring the extractor (dataset runs only); agents never read it."""
    reference: dict[str, Any]
    """Other ground truth (header, terms, whether to approve); agents never read it."""
    outcome: dict[str, Any]


def field_matches(value: Any, expected: Any) -> bool:
    """Exact match for strings, within half a cent for amounts."""
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        try:
            return abs(float(value) - float(expected)) <= 0.005
        except (TypeError, ValueError):
            return False
    return isinstance(value, str) and value.strip() == str(expected)


def _schema_ok(obj: Mapping[str, Any] | None) -> bool:
    if obj is None or set(prompts.FIELDS) - set(obj):
        return False
    numbers_ok = all(
        isinstance(obj[k], int | float) and not isinstance(obj[k], bool) for k in prompts.NUMBER_FIELDS
    )
    return numbers_ok and all(isinstance(obj[k], str) for k in ("invoice_number", *prompts.DATE_FIELDS))


def outcome(state: Mapping[str, Any]) -> dict[str, Any]:
    """The request's metrics (1.0 / 0.0 for binary ones)."""
    errors = state.get("errors") or []
    text = state.get("extracted_text")
    extracted = state.get("extracted") or {}
    out: dict[str, Any] = {
        "json_valid": 1.0 if text is not None and _schema_ok(prompts.parse_json_strict(text)) else 0.0,
        "dates_iso": 1.0
        if extracted and all(prompts.is_iso_date(extracted.get(k)) for k in prompts.DATE_FIELDS)
        else 0.0,
        "approved": 1.0 if state.get("approved") else 0.0,
        "error": 1.0 if errors else 0.0,
        "refusal": 1.0 if state.get("refusals") else 0.0,
        "failed_agents": sorted({e["agent"] for e in errors} | set(state.get("refusals") or [])),
    }
    expected = state.get("expected")
    if expected:
        hits = [field_matches(extracted.get(k), expected[k]) for k in prompts.FIELDS]
        out["field_accuracy"] = sum(hits) / len(hits)
        out["fields_correct"] = 1.0 if all(hits) else 0.0
    ref = state.get("reference")
    if ref:
        validation = state.get("validation") or {}
        out["header_correct"] = 1.0 if (state.get("header") or {}) == ref["header"] else 0.0
        out["terms_correct"] = 1.0 if validation.get("terms_days") == ref["terms_days"] else 0.0
        out["decision_correct"] = 1.0 if bool(state.get("approved")) == ref["approve"] else 0.0
    return out


def build_graph(config: ExperimentsConfig, store: Any = None, *, routing: RoutingNode | None = None) -> Any:
    """The compiled graph. ``store``: an assignment store or URL (ignored when ``routing`` is given)."""
    return pipeline_graph(
        InvoiceState,
        routing or RoutingNode(config, store=store),
        [("parser", agents.parser), ("extractor", agents.extractor), ("validator", agents.validator)],
        skip_last_unless="extracted",
        outcome=outcome,
    )
