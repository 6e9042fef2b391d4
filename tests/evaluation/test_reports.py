"""Reports: JSON valid against the published schema, Markdown and HTML lead with the decision, and the HTML
page renders in a real headless Chromium without console errors, with its five charts drawn."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from routing_agent.evaluation import (
    DecisionKind,
    Evaluation,
    evaluate,
    load_schema,
    validate_report,
    write_report,
)
from routing_agent.evaluation.report import SCHEMA_PATH, render
from routing_agent.stores.observations import Observation
from routing_agent.stores.observations.sqlite import SQLiteObservationStore
from tests.evaluation.support import EXP, arm, make_spec
from tests.support.browser import decode_png, load_page

GUARDRAILS = [
    {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3},
    {"metric": "refusal", "max_ratio_to_control": 2.0},
    {"metric": "cost_usd", "max_ratio_to_control": 1.0},
    {"metric": "json_valid", "min": 0.9},
]


def build(tmp_path: Path, *, candidate_rate: float = 0.90, latency: float = 0.7, n: int = 2500) -> Evaluation:
    """A rich evaluation: every guardrail kind, cost, latency, a secondary metric, segments, a timeline."""
    spec = make_spec(
        guardrails=GUARDRAILS, segments=["tier"],
        primary_metric={"name": "resolved", "kind": "binary", "mde": 0.03, "baseline": 0.87},
        secondary_metrics=[{"name": "csat", "kind": "continuous", "mde": 0.1}],
    )  # fmt: skip
    store = SQLiteObservationStore(tmp_path / "obs.sqlite3")
    tiers = {"tier": ["free", "pro"]}
    store.add(arm("control", n, seed=1, calls=2, cost=0.04, segments=tiers))
    store.add(
        arm("candidate", n, seed=2, rate=candidate_rate, calls=2, cost=0.01, latency=latency, segments=tiers)
    )
    rng = np.random.default_rng(3)
    extra = [
        Observation(EXP, v, f"{v}-{i}", m, float(x), ts=1_000_000.0 + 10 * i)
        for v in ("control", "candidate")
        for i in range(n)
        for m, x in (("csat", rng.normal(4.0, 0.8)), ("json_valid", rng.random() < 0.97))
    ]
    store.add(extra)
    ev = evaluate(spec, observations=store, timeline=True)
    store.close()
    return ev


def test_json_report_validates_against_the_published_schema_for_every_kind(tmp_path: Path) -> None:
    kinds = {}
    for name, ev in {
        "ship": build(tmp_path / "a"),
        "rollback": build(tmp_path / "b", latency=2.5),
        "keep_running": evaluate(make_spec(), observations="memory://"),
    }.items():
        data = json.loads(render(ev, "json"))
        validate_report(data)
        kinds[name] = data["decision"]["kind"]
    assert kinds == {"ship": "ship", "rollback": "rollback", "keep_running": "keep_running"}
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    broken = json.loads(render(build(tmp_path / "c"), "json"))
    broken["decision"]["kind"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        validate_report(broken)


def test_markdown_and_html_lead_with_the_decision_sentence(tmp_path: Path) -> None:
    ev = build(tmp_path)
    assert ev.decision.kind is DecisionKind.SHIP
    md = render(ev, "md").splitlines()
    assert md[0] == "# exp: SHIP → candidate"
    assert md[2] == f"> **SHIP.** {ev.decision.summary}"
    html = render(ev, "html")
    assert html.index(ev.decision.summary.replace("'", "&#x27;").split("—")[0]) < html.index("<section")
    # self-contained: no script, nothing fetched (the only URL is the SVG namespace)
    assert "<script" not in html and "src=" not in html
    urls = {u.split('"')[0] for u in html.split("http")[1:]}
    assert urls == {"://www.w3.org/2000/svg"}
    # a saved JSON re-renders the same page
    path = write_report(ev, tmp_path / "report.json")
    assert render(json.loads(path.read_text()), "html") == html


def test_report_schema_is_the_published_file() -> None:
    from typer.testing import CliRunner

    from routing_agent.cli import app

    result = CliRunner().invoke(app, ["report", "--schema"])
    assert result.exit_code == 0 and json.loads(result.output) == json.loads(SCHEMA_PATH.read_text())


def _ink(region: np.ndarray) -> tuple[float, int]:
    """Share of non-white pixels and the number of distinct strong colours in a screenshot region."""
    flat = region.reshape(-1, 3).astype(int)
    inked = (flat < 235).any(axis=1)
    strong = flat[(flat.max(axis=1) - flat.min(axis=1)) > 60] // 32  # saturated colours, coarsely binned
    return float(inked.mean()), len({tuple(c) for c in strong})


def test_html_report_renders_in_headless_chromium_with_its_charts(tmp_path: Path) -> None:
    ev = build(tmp_path)
    page = write_report(ev, tmp_path / "report.html")
    result = load_page(page)
    assert result.console_errors == []
    shot = decode_png(result.png)
    target = os.environ.get("RA_REPORT_SCREENSHOT")
    (Path(target) if target else tmp_path / "report.png").write_bytes(result.png)
    assert shot.shape[0] >= result.page_height * 0.99 and shot.shape[1] == 1200
    ids = [f["id"] for f in result.figures]
    assert ids == ["chart-effect", "chart-sample", "chart-pvalue", "chart-cost", "chart-latency"]
    for fig in result.figures:
        x, y, w, h = (int(fig[k]) for k in ("x", "y", "w", "h"))
        assert w > 500 and h > 100, fig
        ink, colours = _ink(shot[y : y + h, x : x + w])
        assert 0.01 < ink < 0.6, (fig["id"], ink)  # drawn, not blank, not a solid block
        assert colours >= 2, (fig["id"], colours)  # coloured marks (arms, bounds), not only grey axes
    page_ink, _ = _ink(shot)
    assert page_ink > 0.05


def test_the_browser_harness_does_catch_console_errors(tmp_path: Path) -> None:
    """The check above could not pass vacuously: a page that logs an error and throws is reported."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><link rel='icon' href='data:,'></head><body>"
        "<script>console.error('boom'); throw new Error('kaput');</script><figure id='f'><svg width='10' "
        "height='10'></svg></figure></body></html>"
    )
    result = load_page(bad)
    assert len(result.console_errors) == 2, result.console_errors
    assert any("boom" in e for e in result.console_errors) and any(
        "kaput" in e for e in result.console_errors
    )
