"""Reports of an evaluation: Markdown, a self-contained HTML page with charts, JSON with a published schema.

Every format starts with the decision in one sentence with its evidence, then follows the reading order.
Renderers take the evaluation's JSON (``Evaluation.to_json()``), so a saved ``report.json`` re-renders::

    from routing_agent.evaluation import evaluate
    from routing_agent.evaluation.report import write_report

    evaluation = evaluate(spec, observations="obs.sqlite3", assignments="assignments.sqlite3", timeline=True)
    write_report(evaluation, "report.html")          # format from the suffix: .html, .md, .json
"""

from __future__ import annotations

__all__ = ["SCHEMA_PATH", "load_schema", "render", "validate_report", "write_report"]

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routing_agent.evaluation.report.html import render_html
from routing_agent.evaluation.report.json import SCHEMA_PATH, load_schema, render_json, validate_report
from routing_agent.evaluation.report.markdown import render_markdown

if TYPE_CHECKING:
    from routing_agent.evaluation.analysis import Evaluation

FORMATS = {"md": render_markdown, "html": render_html, "json": render_json}
_SUFFIX = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}


def render(evaluation: Evaluation | dict[str, Any], fmt: str) -> str:
    """The report as text in ``fmt`` (``md``, ``html`` or ``json``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}: use md, html or json")
    data = evaluation if isinstance(evaluation, dict) else evaluation.to_json()
    return FORMATS[fmt](data)


def write_report(
    evaluation: Evaluation | dict[str, Any], path: str | os.PathLike[str], fmt: str | None = None
) -> Path:
    """Write the report to ``path`` (format from ``fmt`` or the suffix); returns the path."""
    target = Path(path)
    chosen = fmt or _SUFFIX.get(target.suffix.lower())
    if chosen is None:
        raise ValueError(f"cannot tell the report format of '{target}': pass md, html or json")
    text = render(evaluation, chosen)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)  # readers never see half a report (watch rewrites it every tick)
    return target
