"""The JSON report and its published JSON Schema (``schema.json``, draft 2020-12).

``routing-agent report --format json`` writes ``Evaluation.to_json()``; ``routing-agent report --schema``
prints the schema. ``validate_report`` checks a document against it with ``jsonschema`` and raises
``jsonschema.ValidationError`` with the failing path.
"""

from __future__ import annotations

__all__ = ["SCHEMA_PATH", "load_schema", "render_json", "validate_report"]

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("schema.json")
"""Where the published schema lives inside the installed package."""


@cache
def _schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The report's JSON Schema (a fresh copy)."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


def validate_report(data: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``data`` follows the published schema."""
    import jsonschema

    jsonschema.Draft202012Validator(load_schema()).validate(data)


def render_json(data: dict[str, Any]) -> str:
    """Strict JSON (no NaN/Infinity), indented, UTF-8 text."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
