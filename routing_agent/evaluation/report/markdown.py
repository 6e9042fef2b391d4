"""The Markdown report: the decision in one sentence on top, then the reading order and every analysis."""

from __future__ import annotations

__all__ = ["render_markdown"]

from typing import Any

from routing_agent.evaluation.report.content import Table, build


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(t: Table) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in t.headers) + " |", "|" + "---|" * len(t.headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in t.rows]
    return lines


def render_markdown(data: dict[str, Any]) -> str:
    """Markdown for an evaluation's JSON (``Evaluation.to_json()``); charts are in the HTML report."""
    head, sections = build(data)
    out = [f"# {head.title}", "", f"> **{head.label}.** {head.summary}", "", f"_{head.meta}_", ""]
    for s in sections:
        out += [f"## {s.title}", ""]
        for line in s.lines:
            out += [line, ""]
        for t in s.tables:
            out += [*_table(t), ""]
    out.append("_Charts (effects, latency, sample, p-value over time, cost) are in the HTML report._")
    return "\n".join(out) + "\n"
