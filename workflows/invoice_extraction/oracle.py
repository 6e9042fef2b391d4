"""What the simulated models "know" about invoices: the oracle keyed on the shipped dataset.

The parser and extractor tasks come from the document's ground truth (with the document's own distractors
as the plausible wrong values). The validator never sees the document: its task is computed from what the
parser and extractor actually wrote, read the way its prompt says: as ISO dates. A candidate extractor
that writes US-style dates therefore makes a correct validator compute wrong payment terms — the
cascading failure of the seeds.
"""

from __future__ import annotations

__all__ = ["InvoiceOracle", "validation_of"]

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from routing_agent.providers.tasks import Extraction, Task
from routing_agent.workflows.base import parse_sections
from routing_agent.workflows.invoice_extraction import prompts
from routing_agent.workflows.invoice_extraction.data import invoices

_LEGAL_SUFFIXES = frozenset({"GmbH", "AG", "Ltd", "LLP", "SARL", "SAS", "BV", "Co."})


def validation_of(header: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The validator's correct answer for these inputs (garbage in, garbage out)."""
    issued, due = prompts.read_date(fields.get("invoice_date")), prompts.read_date(fields.get("due_date"))
    terms = (due - issued).days if issued is not None and due is not None else 30
    try:
        consistent = abs(float(fields["subtotal"]) + float(fields["tax"]) - float(fields["total"])) <= 0.01
    except (KeyError, TypeError, ValueError):
        consistent = False
    approve = consistent and 0 <= terms <= 120 and header.get("doc_type") == "invoice"
    return {"terms_days": terms, "totals_consistent": consistent, "approve": approve}


class InvoiceOracle:
    """Document text → labelled invoice; system prompt → which agent's task."""

    def __init__(self, items: Sequence[Mapping[str, Any]] | None = None) -> None:
        self._items = {row["document"]: row for row in (items if items is not None else invoices())}

    def task_for(self, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Task | None:
        """The task of an invoice-agent prompt, or None for prompts of other workflows."""
        if len(messages) < 2 or messages[0].type != "system":
            return None
        system = messages[0].text
        sections = parse_sections(messages[-1].text)
        if system == prompts.VALIDATOR_SYSTEM:
            return self._validator(sections)
        item = self._items.get(sections.get("Document", ""))
        if item is None:
            return None
        d = float(item["difficulty"])
        distractors = item["distractors"]
        if system == prompts.PARSER_SYSTEM:
            header = item["header"]
            vendor = header["vendor"].rsplit(" ", 1)
            alternatives_h = {
                "doc_type": ("credit_note" if header["doc_type"] == "invoice" else "invoice",),
                "currency": tuple(c for c in ("USD", "EUR", "GBP") if c != header["currency"]),
                "vendor": (vendor[0],) if len(vendor) == 2 and vendor[1] in _LEGAL_SUFFIXES else (),
            }
            return Extraction(fields=header, difficulty=0.5 * d, alternatives=alternatives_h)
        if system == prompts.EXTRACTOR_SYSTEM:
            expected = item["expected"]
            alternatives: dict[str, tuple[Any, ...]] = {
                "invoice_number": tuple(v for v in (distractors["po_number"],) if v),
                "invoice_date": tuple(v for v in (distractors["order_date"], expected["due_date"]) if v),
                "due_date": (expected["invoice_date"],),
                "total": tuple(
                    v
                    for v in (
                        expected["subtotal"],
                        round(expected["total"] + distractors["previous_balance"], 2)
                        if distractors["previous_balance"]
                        else None,
                    )
                    if v is not None
                ),
                "subtotal": (expected["total"],),
            }
            return Extraction(
                fields=expected, difficulty=d, date_fields=prompts.DATE_FIELDS, alternatives=alternatives
            )
        return None

    @staticmethod
    def _validator(sections: Mapping[str, str]) -> Task | None:
        """The validator sees only the header and fields upstream agents produced."""
        try:
            header = json.loads(sections.get("Parsed header", ""))
            fields = json.loads(sections.get("Extracted fields", ""))
        except ValueError:
            return None
        if not isinstance(header, dict) or not isinstance(fields, dict):
            return None
        odd_dates = not all(prompts.is_iso_date(fields.get(k)) for k in prompts.DATE_FIELDS)
        return Extraction(fields=validation_of(header, fields), difficulty=0.2 + (0.3 if odd_dates else 0.0))
