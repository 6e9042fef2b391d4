"""What a report says, independent of its format: the headline and the sections (text, tables, chart slots).

Built from the evaluation's JSON (``Evaluation.to_json()``, or a saved ``report.json``), so every format
— Markdown, HTML — renders the same content, and a JSON report can be re-rendered later.
"""

from __future__ import annotations

__all__ = ["KIND_LABEL", "Headline", "Section", "Table", "build", "warnings_of"]

from dataclasses import dataclass, field
from typing import Any

from routing_agent.evaluation.text import ci, duration, num, pcell, pct, pval, signed, units

KIND_LABEL = {
    "ship": "SHIP",
    "keep_running": "KEEP RUNNING",
    "rollback": "ROLL BACK",
    "no_difference": "NO DIFFERENCE",
    "invalid": "INVALID",
    "segmentation": "SEGMENTATION DECISION",
}


@dataclass(frozen=True)
class Table:
    """Header cells and rows of plain-text cells."""

    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Section:
    """A titled block: paragraphs, tables and the charts (by name) that belong to it."""

    id: str
    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Headline:
    """The decision in one sentence with its evidence, and what it is about."""

    kind: str
    label: str
    title: str
    summary: str
    meta: str


def _headline(d: dict[str, Any]) -> Headline:
    decision, exp = d["decision"], d["experiment"]
    label = KIND_LABEL.get(decision["kind"], decision["kind"].upper())
    winner = f" → {decision['winner']}" if decision["winner"] else ""
    state = exp["state"]["status"] if exp["state"] else "running (no state recorded)"
    review = " · review required" if exp["review"] == "required" else ""
    meta = (
        f"Evaluated {d['evaluated_at_iso'][:19].replace('T', ' ')} UTC in {d['duration_s']:.2f} s · "
        f"unit: {exp['unit']} · live state: {state}{review}"
    )
    return Headline(decision["kind"], label, f"{exp['id']}: {label}{winner}", decision["summary"], meta)


def _arms(d: dict[str, Any]) -> Section:
    rows = [
        [
            a["name"] + (" (control)" if a["control"] else ""), a["model"], pct(a["weight"], 0),
            units(a["units_assigned"]), units(a["units_observed"]),
        ]
        for a in d["arms"]
    ]  # fmt: skip
    table = Table(["variant", "model", "weight", "units assigned", "units observed"], rows)
    return Section("arms", "Variants", tables=[table])


def _comparisons(rows: list[dict[str, Any]]) -> Table:
    out = []
    for c in rows:
        r, s = c["result"], c["sequential"]
        if r is None:
            out.append([c["metric"], c["variant"], "—", "—", "—", "—", "—", "—", c["verdict"]])
            continue
        level = f"{100 * (1 - r['alpha']):g}%"
        out.append(
            [
                c["metric"], c["variant"], num(r["control_mean"]), num(r["treatment_mean"]),
                f"{signed(r['absolute_effect'])} {ci(r['ci_low'], r['ci_high'])} ({level})",
                pcell(r["p_value"]), pcell(c["adjusted_p_value"]),
                pcell(s["p_value"]) if s else "—",
                c["verdict"] + (" (early)" if c["early"] else ""),
            ]
        )  # fmt: skip
    headers = ["metric", "arm", "control", "test", "difference (CI)", "p", "adjusted p", "always-valid p"]
    return Table([*headers, "verdict"], out)


def _primary(d: dict[str, Any]) -> Section:
    m = d["experiment"]["primary_metric"]
    if not m:
        return Section("primary", "Primary metric", ["No primary metric is declared: guardrails only."])
    test = "non-inferiority" if m["test"] == "non_inferiority" else "two-sided superiority"
    margin = f", margin {m['margin']:g}{' (relative)' if m['margin_relative'] else ''}" if m["margin"] else ""
    lines = [
        f"`{m['name']}` ({m['kind']}, {m['direction']} is better): {test} test at α = {m['alpha']:g}, "
        f"MDE {m['mde']:g}{' (relative)' if m['mde_relative'] else ''}{margin}."
    ]
    methods = sorted({c["result"]["method"] for c in d["primary"] if c["result"]})
    lines += [f"Method: {m_}." for m_ in methods]
    lines += [f"{c['variant']}: {c['note']}." for c in d["primary"] if c["note"]]
    return Section("primary", "Primary metric", lines, [_comparisons(d["primary"])], ["effect"])


def _guardrails(d: dict[str, Any]) -> Section:
    rows = []
    for g in d["guardrails"]:
        rel = g["kind"] == "relative"
        seen = f"{num(g['ratio'])}×" if rel and g["ratio"] is not None else num(g["test_value"])
        status = {"held": "holds", "insufficient_data": "INSUFFICIENT DATA"}.get(g.get("status", ""), "")
        if g["breached"] and g["enough_sample"]:
            status = "BREACHED" if g["action"] == "rollback" else "breached (alert)"
        elif g["test_value"] is not None and not g["enough_sample"]:
            status = f"insufficient data: below min sample {g['min_sample']}"
        rows.append(
            [
                g["bound"], g["variant"], num(g["control_value"]) if rel else "—", num(g["test_value"]), seen,
                ci(g["ci_low"], g["ci_high"], sign=False), pcell(g["p_value"]),
                f"{units(g['n_control'])} / {units(g['n_test'])}", status,
            ]
        )  # fmt: skip
    headers = ["bound", "arm", "control", "test", "observed", "always-valid CI", "p (breach)", "units c/t"]
    lines = [
        "A breach is declared when the estimate is beyond the bound and the always-valid confidence "
        "sequence excludes the bound (mSPRT, safe under continuous monitoring), with at least min_sample "
        "units per arm. A bound without data or below min_sample is insufficient data, never held: it "
        "blocks every ship and every switch to a cheaper variant."
    ]
    if not rows:
        lines = ["No guardrails are declared."]
    return Section("guardrails", "Guardrails", lines, [Table([*headers, "status"], rows)] if rows else [])


def _plan(d: dict[str, Any]) -> Section:
    plan = d["plan"]
    if plan is None:
        return Section(
            "sample", "Sample size", ["No primary metric: no sample-size plan."], charts=["pvalue"]
        )
    lines = list(plan["describe"]) or [plan["note"] or "No plan yet."]
    rows = [
        [v, units(n), units(plan["observed"].get(v, 0)), units(plan["remaining"].get(v, 0))]
        for v, n in plan["planned"].items()
    ]
    if plan["days_remaining"] is not None:
        lines.append(
            f"At the current {plan['traffic_per_day']:,.0f} units/day: {duration(plan['days_remaining'])} "
            f"to go (plan inputs from the {plan['source']})."
        )
    tables = [Table(["arm", "planned", "observed", "still needed"], rows)] if rows else []
    source = d["timeline"]["source"]
    lines.append(
        "Over-time plots: "
        + ("the primary metric replayed from stored rows." if source == "replay" else "this process's looks.")
    )
    return Section("sample", "Sample size and sequential p-value", lines, tables, ["sample", "pvalue"])


def _cost(d: dict[str, Any]) -> Section:
    cost = d["cost"]
    if not cost:
        return Section("cost", "Cost per unit", ["No cost observations (no priced calls)."])
    rows = [[v, f"${num(c['mean'])}", units(c["n"])] for v, c in cost["per_unit"].items()]
    lines = []
    for c in cost["comparisons"]:
        if c["times_cheaper"] is not None:
            low, high = c["times_cheaper_ci_low"], c["times_cheaper_ci_high"]
            interval = f" (95% CI {num(low)}–{num(high)}×)" if low is not None and high is not None else ""
            lines.append(
                f"{cost['control']} / {c['variant']} = {num(c['times_cheaper'])}×{interval}, "
                f"{pval(c['result']['p_value'])}"
            )
    return Section(
        "cost", "Cost per unit", lines, [Table(["variant", "mean per unit", "units"], rows)], ["cost"]
    )


def _latency(d: dict[str, Any]) -> Section:
    rows = [
        [x["variant"], units(x["count"]), *(num(x[k]) for k in ("mean", "p50", "p90", "p95", "p99"))]
        for x in d["distributions"]
    ]  # fmt: skip
    metric = d["distributions"][0]["metric"] if d["distributions"] else d["settings"]["latency_metric"]
    if not rows:
        return Section("latency", f"Distribution of {metric}", [f"No {metric} observations."])
    table = Table(["variant", "calls", "mean", "p50", "p90", "p95", "p99"], rows)
    return Section("latency", f"Distribution of {metric} per call", tables=[table], charts=["latency"])


def _segments(d: dict[str, Any]) -> Section | None:
    if not d["segments"]:
        return None
    tables = []
    for s in d["segments"]:
        rows = [
            [
                f"{s['key']}={v['value']}", s["variant"], num(v["control_value"]), num(v["test_value"]),
                f"{signed(v['effect'])} {ci(v['ci_low'], v['ci_high'])}", pval(v["adjusted_p_value"]),
                "WORSE" if v["worse"] else ("better" if v["significant"] else "—"),
            ]
            for v in s["values"]
        ]  # fmt: skip
        tables.append(
            Table(["segment", "arm", "control", "test", "difference (CI)", "Holm-adjusted", ""], rows)
        )
    return Section("segments", "Segments", ["Primary metric per declared segment value."], tables)


def _label(key: str, node: dict[str, Any]) -> str:
    what = next((str(node[k]) for k in ("bound", "metric") if isinstance(node.get(k), str)), "")
    arm = f" [{node['variant']}]" if isinstance(node.get("variant"), str) else ""
    return f"{key}: {what}{arm}".rstrip(": ") if what or arm else key


def _collect(node: Any, where: str, out: list[tuple[str, str]]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, where, out)
    elif isinstance(node, dict):
        here = _label(where, node) if ("metric" in node or "variant" in node) else where
        for key, value in node.items():
            if key == "warnings" and isinstance(value, list):
                out.extend((here, w) for w in value if isinstance(w, str))
            else:
                _collect(value, here, out)


def warnings_of(d: dict[str, Any]) -> list[tuple[str, str]]:
    """Every ``warnings`` entry anywhere in the evaluation's JSON, with where it comes from (no repeats)."""
    found: list[tuple[str, str]] = []
    for key, value in d.items():
        if key != "decision":  # the decision repeats the guardrail records
            _collect(value, key, found)
    return list(dict.fromkeys(found))


def _warnings(d: dict[str, Any]) -> Section:
    found = warnings_of(d)
    failed = [f"{c['name']}: {c['message']}" for c in d["checks"] if not c["passed"]]
    lines = [f"Validity check failed — {f}." for f in failed]
    lines += [
        f"{c['name']}: {c['message']}." for c in d["checks"] if c["passed"] and c["name"] == "ingestion"
    ]
    lines += [f"{where}: {text}" for where, text in found]
    return Section("warnings", "Warnings", lines or ["None: every test's assumptions held."])


def build(d: dict[str, Any]) -> tuple[Headline, list[Section]]:
    """The headline and sections of a report from the evaluation's JSON."""
    steps = Section(
        "reading", "Reading order", [f"{i}. {r}" for i, r in enumerate(d["decision"]["reasons"], 1)]
    )
    sections = [steps, _warnings(d), _primary(d), _guardrails(d), _plan(d), _cost(d), _latency(d)]
    if d["secondary"]:
        sections.append(Section("secondary", "Secondary metrics", tables=[_comparisons(d["secondary"])]))
    segments = _segments(d)
    if segments is not None:
        sections.append(segments)
    checks = Table(
        ["check", "result", "detail"],
        [[c["name"], "pass" if c["passed"] else "FAIL", c["message"]] for c in d["checks"]],
    )
    sections += [Section("checks", "Validity checks", tables=[checks]), _arms(d)]
    return _headline(d), sections
