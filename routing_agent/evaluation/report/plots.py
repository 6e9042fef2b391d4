"""The report's five charts as inline SVG, drawn from the evaluation's JSON (so a saved JSON re-renders).

* ``effect_plot`` — every metric's relative effect with its CI (primary, secondary, relative guardrails), the
  MDE band and each guardrail's bound;
* ``latency_plot`` — the per-call latency distribution of each variant (log axis) with its p95;
* ``sample_plot`` — units per arm over time against the planned sample;
* ``pvalue_plot`` — the primary metric's always-valid p-value over time against α;
* ``cost_plot`` — cost per unit of each variant with its 95% interval.

Each returns ``""`` when there is nothing to draw; the page then says why.
"""

from __future__ import annotations

__all__ = ["cost_plot", "effect_plot", "latency_plot", "pvalue_plot", "sample_plot"]

import math
from typing import Any

from routing_agent.evaluation.report.svg import (
    PALETTE,
    Frame,
    Scale,
    circle,
    document,
    line,
    log_ticks,
    nice_ticks,
    path,
    rect,
    text,
)
from routing_agent.evaluation.text import num

_GRID = "#eaeef2"
_RED = "#cf222e"


def _colors(data: dict[str, Any]) -> dict[str, str]:
    arms = sorted(data["arms"], key=lambda a: not a["control"])
    return {a["name"]: PALETTE[i % len(PALETTE)] for i, a in enumerate(arms)}


def _x_axis(f: Frame, sx: Scale, ticks: list[float], fmt: Any, label: str) -> list[str]:
    out = [line(f.x0, f.y0, f.x1, f.y0, color="#57606a")]
    for t in ticks:
        x = sx(t)
        out += [line(x, f.y1, x, f.y0, color=_GRID), text(x, f.y0 + 16, fmt(t), anchor="middle", size=11)]
    out.append(text((f.x0 + f.x1) / 2, f.height - 6, label, anchor="middle", size=11, color="#57606a"))
    return out


def _y_axis(f: Frame, sy: Scale, ticks: list[float], fmt: Any, label: str) -> list[str]:
    out = [line(f.x0, f.y0, f.x0, f.y1, color="#57606a")]
    for t in ticks:
        y = sy(t)
        out += [line(f.x0, y, f.x1, y, color=_GRID), text(f.x0 - 6, y + 4, fmt(t), anchor="end", size=11)]
    out.append(text(12, f.y1 - 12, label, size=11, color="#57606a"))
    return out


def _legend(f: Frame, items: list[tuple[str, str]]) -> list[str]:
    out, x = [], f.x0
    for name, color in items:
        out += [rect(x, 8, 12, 12, color), text(x + 16, 18, name, size=11)]
        x += 28 + 7 * len(name)
    return out


def _pct(x: float) -> str:
    return f"{100 * x:+.0f}%" if abs(x) >= 0.1 else f"{100 * x:+.1f}%"


def _clip(x: float | None, lo: float, hi: float) -> float | None:
    if x is None:
        return None
    return min(max(x, lo), hi) if math.isfinite(x) else (hi if x > 0 else lo)


def _effect_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for c in [*data["primary"], *data["secondary"]]:
        r = c["result"]
        if not r or r["relative_effect"] is None or not r["control_mean"]:
            continue
        base = abs(r["control_mean"])
        band = c["mde"] / base if c["mde"] and c["test"] == "superiority" else None
        bound = None
        if c["test"] == "non_inferiority" and c["margin"]:
            margin = c["margin"] if c["margin_relative"] else c["margin"] / base
            bound = -margin if c["direction"] == "increase" else margin
        rows.append(
            {"label": f"{c['metric']} · {c['variant']} ({c['role']})", "est": r["relative_effect"],
             "lo": r["relative_ci_low"], "hi": r["relative_ci_high"], "band": band, "bound": bound,
             "variant": c["variant"]}
        )  # fmt: skip
    for g in data["guardrails"]:
        if g["kind"] != "relative" or g["ratio"] is None:
            continue
        rows.append(
            {"label": f"{g['bound']} · {g['variant']}", "est": g["ratio"] - 1,
             "lo": g["ci_low"] - 1 if g["ci_low"] is not None else None,
             "hi": g["ci_high"] - 1 if g["ci_high"] is not None else None, "band": None,
             "bound": g["limit"] - 1, "variant": g["variant"],
             "breached": g["breached"] and g["enough_sample"]}
        )  # fmt: skip
    return rows


def effect_plot(data: dict[str, Any]) -> str:
    """Relative effect (test / control − 1) with its CI for every metric, MDE bands and guardrail bounds."""
    rows = _effect_rows(data)
    if not rows:
        return ""
    marks = [v for r in rows for v in (r["est"], r["lo"], r["hi"], r["bound"])]
    values = [0.0, *(v for v in marks if v is not None and math.isfinite(v))]
    values += [s * r["band"] for r in rows if r["band"] for s in (-1, 1)]
    centre = [0.0, *(v for r in rows for v in (r["est"], r["bound"]) if v is not None and math.isfinite(v))]
    lo = max(min(values), -1.0)  # test / control − 1 ≥ −100% for non-negative metrics
    hi = min(max(values), max(1.0, 2.0 * max(centre)))  # a very wide CI runs off the edge, not the scale
    pad = (hi - lo) * 0.08 or 0.05
    lo, hi = lo - pad, hi + pad
    f = Frame(height=60 + 34 * len(rows), left=300, top=20)
    sx = Scale(lo, hi, f.x0, f.x1)
    colors = _colors(data)
    out = _x_axis(f, sx, nice_ticks(lo, hi, 6), _pct, "relative effect: test / control − 1 (95% CI)")
    out.append(line(sx(0), f.y1, sx(0), f.y0, color="#57606a", width=1.5))
    for i, r in enumerate(rows):
        y = f.y1 + 17 + 34 * i
        out.append(text(f.x0 - 10, y + 4, r["label"][:46], anchor="end", size=11))
        if r["band"]:
            out.append(
                rect(sx(-r["band"]), y - 12, sx(r["band"]) - sx(-r["band"]), 24, "#fff8c5", opacity=0.9)
            )
        if r["bound"] is not None:
            bx = sx(r["bound"])
            out += [
                line(bx, y - 13, bx, y + 13, color=_RED, width=2),
                text(bx, y - 15, "bound", anchor="middle", size=9),
            ]
        low, high = _clip(r["lo"], lo, hi), _clip(r["hi"], lo, hi)
        color = _RED if r.get("breached") else colors.get(r["variant"], PALETTE[1])
        if low is not None and high is not None:
            out.append(line(sx(low), y, sx(high), y, color=color, width=2.5))
        out.append(circle(sx(r["est"]), y, 5, color))
    return document(f, "Effect with confidence interval per metric", out)


def latency_plot(data: dict[str, Any]) -> str:
    """Per-call distribution of the latency metric in each variant, on a log axis, with p95 markers."""
    dists = [d for d in data["distributions"] if d["count"] and d["bins"]]
    positive = [b for d in dists for b in d["bins"] if b[0] > 0]
    if not positive:
        return ""
    lo, hi = min(b[0] for b in positive), max(b[1] for b in positive)
    f = Frame(height=280)
    sx = Scale(lo, hi, f.x0, f.x1, log=True)
    curves: dict[str, list[tuple[float, float]]] = {}
    top = 0.0
    for d in dists:
        pts = []
        for low, high, count in d["bins"]:
            if low <= 0:
                continue
            density = count / d["count"] / math.log10(high / low)
            pts += [(low, density), (high, density)]
            top = max(top, density)
        curves[d["variant"]] = pts
    sy = Scale(0.0, top * 1.1 or 1.0, f.y0, f.y1)
    colors = _colors(data)
    metric = dists[0]["metric"]
    out = _x_axis(f, sx, log_ticks(lo, hi), lambda t: f"{t:g}", f"{metric} per call (log scale)")
    out += _y_axis(f, sy, nice_ticks(0.0, top * 1.1, 4), lambda t: f"{t:g}", "density")
    for d in dists:
        color = colors.get(d["variant"], PALETTE[2])
        out.append(path([(sx(x), sy(y)) for x, y in curves[d["variant"]]], color, width=2))
        if d["p95"]:
            x = sx(d["p95"])
            label = f"p95 {num(d['p95'])}"
            out += [
                line(x, f.y1, x, f.y0, color=color, width=1.5, dash="5,4"),
                text(x + 3, f.y1 + 12, label, size=10, color=color),
            ]
    out += _legend(f, [(d["variant"], colors.get(d["variant"], PALETTE[2])) for d in dists])
    return document(f, f"{metric} distribution per variant", out)


def _elapsed(seconds: float) -> tuple[float, str]:
    for size, unit in ((86_400.0, "days"), (3_600.0, "hours"), (60.0, "minutes")):
        if seconds >= 2 * size:
            return size, unit
    return 1.0, "seconds"


def sample_plot(data: dict[str, Any]) -> str:
    """Units per arm over time (lines) against each arm's planned units (dashed)."""
    points = data["timeline"]["points"]
    planned = (data["plan"] or {}).get("planned") or {}
    if not points:
        return ""
    colors = _colors(data)
    variants = [a["name"] for a in data["arms"]]
    t0 = points[0]["at"]
    size, unit = _elapsed(points[-1]["at"] - t0)
    top = max([*planned.values(), *(p["units"].get(v, 0) for p in points for v in variants), 1])
    f = Frame(height=280)
    sx = Scale(0.0, max((points[-1]["at"] - t0) / size, 1.0), f.x0, f.x1)
    sy = Scale(0.0, top * 1.08, f.y0, f.y1)
    out = _x_axis(f, sx, nice_ticks(0.0, sx.hi, 6), lambda t: f"{t:g}", f"time since the first look ({unit})")
    out += _y_axis(f, sy, nice_ticks(0.0, top * 1.08, 5), lambda t: f"{t:,.0f}", "units")
    same = len(set(planned.values())) == 1
    for i, v in enumerate(variants):
        color = colors.get(v, PALETTE[2])
        if v in planned and (not same or i == 0):
            y = sy(planned[v])
            label = f"planned per arm {planned[v]:,}" if same else f"planned {v} {planned[v]:,}"
            out += [
                line(f.x0, y, f.x1, y, color="#57606a" if same else color, width=1.5, dash="6,4"),
                text(f.x1 - 4, y - 4, label, anchor="end", size=10, color="#57606a" if same else color),
            ]
        pts = [(sx((p["at"] - t0) / size), sy(p["units"].get(v, 0))) for p in points]
        width = max(4.5 - 1.5 * i, 1.5)  # earlier arms drawn wider: equal arms stay visible under each other
        out.append(path(pts, color, width=width) if len(pts) > 1 else circle(*pts[0], 5, color))
    out += _legend(f, [(v, colors.get(v, PALETTE[2])) for v in variants])
    return document(f, "Cumulative sample against the required sample", out)


def pvalue_plot(data: dict[str, Any]) -> str:
    """The primary metric's always-valid p-value at every look (log axis) and the level it is read at."""
    points = [p for p in data["timeline"]["points"] if p["p_value"] is not None]
    if not points:
        return ""
    primary = data["experiment"]["primary_metric"] or {}
    arms = max(len(data["arms"]) - 1, 1)
    alpha = float(primary.get("alpha", 0.05)) / arms
    low = max(min([alpha / 10, *(max(p["p_value"], 1e-12) for p in points)]), 1e-12)
    t0 = points[0]["at"]
    size, unit = _elapsed(points[-1]["at"] - t0)
    f = Frame(height=260)
    sx = Scale(0.0, max((points[-1]["at"] - t0) / size, 1.0), f.x0, f.x1)
    sy = Scale(low, 1.0, f.y0, f.y1, log=True)
    out = _x_axis(f, sx, nice_ticks(0.0, sx.hi, 6), lambda t: f"{t:g}", f"time since the first look ({unit})")
    out += _y_axis(f, sy, log_ticks(low, 1.0), lambda t: f"{t:g}", "always-valid p-value (log)")
    out += [
        line(f.x0, sy(alpha), f.x1, sy(alpha), color=_RED, width=1.5, dash="6,4"),
        text(f.x1 - 4, sy(alpha) - 5, f"α = {alpha:g}", anchor="end", size=10, color=_RED),
    ]
    pts = [(sx((p["at"] - t0) / size), sy(max(p["p_value"], low))) for p in points]
    color = PALETTE[1]
    out.append(path(pts, color, width=2.5) if len(pts) > 1 else circle(*pts[0], 5, color))
    out.append(circle(*pts[-1], 4, color))
    return document(f, "Always-valid p-value of the primary metric over time", out)


def cost_plot(data: dict[str, Any]) -> str:
    """Mean cost per unit of each variant with its 95% interval."""
    cost = data["cost"]
    if not cost or not cost["per_unit"]:
        return ""
    colors = _colors(data)
    rows = [
        (v, c["mean"], 1.96 * (c["std_error"] or 0.0))
        for v, c in cost["per_unit"].items()
        if c["mean"] is not None
    ]
    top = max(m + e for _, m, e in rows) * 1.1 or 1.0
    f = Frame(height=60 + 40 * len(rows), left=140, top=16)
    sx = Scale(0.0, top, f.x0, f.x1)
    out = _x_axis(f, sx, nice_ticks(0.0, top, 5), lambda t: f"${t:g}", f"{cost['metric']} per unit (95% CI)")
    for i, (variant, mean, err) in enumerate(rows):
        y = f.y1 + 22 + 40 * i
        color = colors.get(variant, PALETTE[2])
        out += [
            text(f.x0 - 10, y + 4, variant, anchor="end", size=12),
            rect(f.x0, y - 11, sx(mean) - f.x0, 22, color, opacity=0.85),
            line(sx(mean - err), y, sx(mean + err), y, color="#24292f", width=1.5),
            text(sx(mean + err) + 6, y + 4, f"${num(mean)}", size=11),
        ]
    return document(f, "Cost per unit per variant", out)
