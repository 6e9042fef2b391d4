"""Every generated text reads true: no "not significant" beside a p below α, no NaN, no negative duration,
and every warning of the JSON report is in the Markdown and the HTML too (issue 12, item 10)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest

from routing_agent.evaluation import Evaluation, validate_report
from routing_agent.evaluation.report import render
from tests.evaluation.issue12 import binary, planned, rows, run, spec

GUARDRAILS = [
    {"metric": "cost_usd", "max_ratio_to_control": 1.0, "min_sample": 10},
    {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3, "min_sample": 1},
    {"metric": "json_valid", "min": 0.9, "agent": "extractor"},
]


def _n() -> int:
    return planned(spec())


SCENARIOS: dict[str, Callable[[], Evaluation]] = {
    "zero variance": lambda: run(spec(), rows("control", [1.0] * 5000), rows("candidate", [1.0] * 5000)),
    "near one": lambda: run(
        spec(baseline=0.9, mde=0.05),
        rows("control", binary(4000, 4000)),
        rows("candidate", binary(3960, 4000)),
    ),
    "no difference": lambda: run(
        spec(),
        rows("control", binary(round(0.85 * _n()), _n())),
        rows("candidate", binary(round(0.845 * _n()), _n())),
    ),
    "early win": lambda: run(
        spec(), rows("control", binary(1275, 1500)), rows("candidate", binary(1410, 1500))
    ),
    "keep running": lambda: run(spec(), rows("control", binary(85, 100)), rows("candidate", binary(86, 100))),
    "non-inferiority": lambda: run(
        spec(test="non_inferiority", margin=0.02),
        rows("control", binary(1275, 1500)),
        rows("candidate", binary(1275, 1500)),
    ),
    "attrition": lambda: run(
        spec(), rows("control", binary(4250, 5000)), rows("candidate", binary(4150, 5000, lost_failures=500))
    ),
    "guardrails": lambda: run(
        spec(guardrails=GUARDRAILS),
        rows("control", binary(7, 8), cost=-0.02, extra={"latency_s": 1.0}),
        rows("candidate", binary(8, 8), extra={"latency_s": 3.0}),
    ),
}

P_VALUE = re.compile(r"p (?:= (\d[\d.e+-]*)|< (0\.\d+))")
NEGATIVE_DURATION = re.compile(r"[−-]\s?\d[\d,.]*\s(?:days?|hours?|minutes?|seconds?)\b")


def _contradictions(text: str, alpha: float) -> list[str]:
    found = []
    for clause in re.split(r";|\.\s|\n", text):
        if "not significant" not in clause:
            continue
        for exact, below in P_VALUE.findall(clause):
            p = float(exact or below)
            if p < alpha or below:
                found.append(clause.strip())
    return found


@pytest.fixture(scope="module")
def reports() -> dict[str, tuple[Evaluation, dict[str, str]]]:
    out = {}
    for name, make in SCENARIOS.items():
        ev = make()
        out[name] = (ev, {fmt: render(ev, fmt) for fmt in ("json", "md", "html")})
    return out


@pytest.mark.parametrize("name", SCENARIOS)
def test_texts_never_contradict_themselves(
    name: str, reports: dict[str, tuple[Evaluation, dict[str, str]]]
) -> None:
    ev, texts = reports[name]
    validate_report(ev.to_json())
    alpha = ev.spec.primary_metric.alpha if ev.spec.primary_metric else 0.05
    for fmt, text in [("summary", ev.decision.summary), *texts.items()]:
        assert not _contradictions(text, alpha), (fmt, _contradictions(text, alpha))
        assert not re.search(r"\bnan\b", text, re.IGNORECASE), (fmt, text)
        assert not NEGATIVE_DURATION.search(text), (fmt, NEGATIVE_DURATION.search(text))


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_warning_is_in_every_format(
    name: str, reports: dict[str, tuple[Evaluation, dict[str, str]]]
) -> None:
    ev, texts = reports[name]
    from routing_agent.evaluation.report.content import warnings_of

    warnings = [w for _, w in warnings_of(ev.to_json())]
    failed = [c.message for c in ev.checks if not c.passed]
    for text in [*warnings, *failed]:
        assert (
            text in texts["json"]
            or html.unescape(text) in texts["json"]
            or _escaped_json(text) in texts["json"]
        )
        assert text in texts["md"].replace("\\|", "|"), text
        assert html.escape(text) in texts["html"], text


def _escaped_json(text: str) -> str:
    import json

    return json.dumps(text)[1:-1]


def test_the_scenarios_carry_warnings_to_check(reports: dict[str, tuple[Evaluation, dict[str, str]]]) -> None:
    from routing_agent.evaluation.report.content import warnings_of

    assert warnings_of(reports["guardrails"][0].to_json())
    assert any(not c.passed for c in reports["attrition"][0].checks)
    assert _contradictions("difference 0 (p < 0.001), not significant", 0.05)  # the check can fail
    assert NEGATIVE_DURATION.search("about −1.5 days at the current traffic")
