"""The decision rules calibrated through ``evaluate()`` (``evals/decisions.py``) at CI size.

300 experiments per scenario (150 per peeking scenario), fixed seed, so the run is deterministic; every row
of issue 12's acceptance table must hold (a ``≤`` target with 3.29 Monte Carlo SEs of slack, ``= 0``
exactly). The full size (1,000 each) runs with ``RA_CALIBRATION=full``.
"""

from __future__ import annotations

import os

import pytest

from evals.decisions import format_rows, run

SCENARIOS = (
    "A/A, 4x cheaper candidate",
    "one MDE worse, superiority",
    "one MDE worse, NI test",
    "NI test, candidate exactly at the margin",
    "+MDE better",
    "control 100% vs candidate 99%",
    "control 99.9% vs candidate 99%",
    "candidate loses 10% of outcomes",
    "guardrail never receives data",
    "peeking",
)


def _assert_targets(size: str) -> None:
    rows = run(size)
    failed = [r for r in rows if not r.ok]
    assert not failed, "\n" + format_rows(failed)
    for name in SCENARIOS:
        assert any(r.scenario.startswith(name) for r in rows), name
    by = {(r.scenario.split(",")[0], r.measure): r for r in rows}
    assert by[("guardrail never receives data", "P(ship or move)")].hits == 0
    assert by[("A/A", "P(moved without non-inferiority shown)")].hits == 0
    assert by[("+MDE better", "P(ship)")].value >= 0.78


def test_decision_calibration_ci_size() -> None:
    _assert_targets("ci")


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("RA_CALIBRATION") != "full",
    reason="1,000 experiments per scenario (~8 min): run with RA_CALIBRATION=full pytest -m slow",
)
def test_decision_calibration_full_size() -> None:
    _assert_targets("full")
