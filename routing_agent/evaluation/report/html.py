"""The HTML report: one self-contained page (inline CSS and SVG charts, no script, nothing fetched).

The decision in one sentence with its evidence sits on top in a coloured banner; each section below holds
its tables and charts. The page opens from a file, offline, in any browser.
"""

from __future__ import annotations

__all__ = ["render_html"]

from collections.abc import Callable
from typing import Any

from routing_agent.evaluation.report.content import Section, Table, build
from routing_agent.evaluation.report.plots import (
    cost_plot,
    effect_plot,
    latency_plot,
    pvalue_plot,
    sample_plot,
)
from routing_agent.evaluation.report.svg import esc

_CHARTS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "effect": ("Effect with CI per metric", effect_plot),
    "latency": ("Latency distribution per variant", latency_plot),
    "sample": ("Cumulative sample vs required sample", sample_plot),
    "pvalue": ("Always-valid p-value of the primary metric over time", pvalue_plot),
    "cost": ("Cost per unit", cost_plot),
}

_COLOR = {
    "ship": "#1a7f37",
    "no_difference": "#0969da",
    "keep_running": "#9a6700",
    "rollback": "#cf222e",
    "invalid": "#8250df",
    "segmentation": "#bc4c00",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#24292f;
background:#f6f8fa;line-height:1.45}
main{max-width:1040px;margin:0 auto;padding:24px}
header.decision{color:#fff;border-radius:10px;padding:18px 22px;margin-bottom:18px}
header.decision h1{margin:0 0 6px;font-size:22px}
header.decision p.summary{margin:0;font-size:17px}
header.decision p.meta{margin:8px 0 0;font-size:13px;opacity:.9}
section{background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:14px 18px;margin-bottom:16px}
section h2{margin:0 0 10px;font-size:18px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
th,td{border-bottom:1px solid #eaeef2;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
figure{margin:10px 0}figcaption{font-size:13px;color:#57606a}
svg.chart{width:100%;height:auto;display:block}
p.note{color:#57606a;font-size:13px}
"""


def _table(t: Table) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in t.headers)
    rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in t.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _chart(name: str, data: dict[str, Any]) -> str:
    caption, draw = _CHARTS[name]
    svg = draw(data)
    if not svg:
        return f'<p class="note">{esc(caption)}: no data to plot yet.</p>'
    return f'<figure id="chart-{name}">{svg}<figcaption>{esc(caption)}</figcaption></figure>'


def _section(s: Section, data: dict[str, Any]) -> str:
    body = "".join(f"<p>{esc(line)}</p>" for line in s.lines)
    body += "".join(_chart(c, data) for c in s.charts)
    body += "".join(_table(t) for t in s.tables)
    return f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>{body}</section>'


def render_html(data: dict[str, Any]) -> str:
    """A self-contained HTML page for an evaluation's JSON (``Evaluation.to_json()``)."""
    head, sections = build(data)
    color = _COLOR.get(head.kind, "#57606a")
    banner = (
        f'<header class="decision" style="background:{color}"><h1>{esc(head.title)}</h1>'
        f'<p class="summary">{esc(head.summary)}</p><p class="meta">{esc(head.meta)}</p></header>'
    )
    body = "".join(_section(s, data) for s in sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        f"<title>{esc(head.title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{banner}{body}</main></body></html>\n"
    )
