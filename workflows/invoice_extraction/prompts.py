"""Prompts of the invoice agents, their output schemas, and the parsing of extracted JSON."""

from __future__ import annotations

__all__ = [
    "DATE_FIELDS",
    "EXTRACTOR_SYSTEM",
    "FIELDS",
    "NUMBER_FIELDS",
    "PARSER_SYSTEM",
    "VALIDATOR_SYSTEM",
    "ParsedHeader",
    "Validation",
    "is_iso_date",
    "parse_json_strict",
    "parse_json_tolerant",
    "read_date",
]

import json
import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

FIELDS = ("invoice_number", "invoice_date", "due_date", "subtotal", "tax", "total")
DATE_FIELDS = ("invoice_date", "due_date")
NUMBER_FIELDS = ("subtotal", "tax", "total")

PARSER_SYSTEM = (
    "You read scanned business documents for accounts payable. Identify the document type (invoice or "
    "credit_note), the vendor's name and the currency (USD, EUR or GBP)."
)
EXTRACTOR_SYSTEM = (
    "Extract the invoice fields as one JSON object with the keys invoice_number, invoice_date, due_date, "
    "subtotal, tax and total. Write dates as ISO dates (YYYY-MM-DD) and amounts as plain numbers. Reply "
    "with the JSON object only."
)
VALIDATOR_SYSTEM = (
    "You check extracted invoice data before payment. Dates are ISO dates (YYYY-MM-DD). Compute the payment "
    "terms in days (due_date minus invoice_date), whether subtotal plus tax equals total (to the cent), and "
    "whether to approve payment: only invoices (not credit notes) with consistent totals and terms between "
    "0 and 120 days."
)

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")


class ParsedHeader(BaseModel):
    """The parser's answer."""

    doc_type: Literal["invoice", "credit_note"]
    vendor: str
    currency: Literal["USD", "EUR", "GBP"]


class Validation(BaseModel):
    """The validator's answer."""

    terms_days: int
    totals_consistent: bool
    approve: bool


def parse_json_strict(text: str) -> dict[str, Any] | None:
    """The object in ``text`` if it is exactly a JSON object (what a JSON contract means), else None."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def parse_json_tolerant(text: str) -> dict[str, Any] | None:
    """Like ``parse_json_strict`` but accepts a Markdown code fence around the object."""
    match = _FENCE.match(text)
    return parse_json_strict(match.group(1) if match else text)


def is_iso_date(value: Any) -> bool:
    """True for a ``YYYY-MM-DD`` string naming a real day."""
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def read_date(value: Any) -> date | None:
    """How a reader who was promised ISO dates reads a date: ISO, else day-first numeric, else month-first."""
    if is_iso_date(value):
        return date.fromisoformat(value)
    match = _NUMERIC_DATE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    first, second, year = (int(g) for g in match.groups())
    for day, month in ((first, second), (second, first)):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None
