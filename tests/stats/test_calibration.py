"""Monte Carlo calibration (``evals/calibration.py``) at CI size; full size with ``RA_CALIBRATION=full``.

CI size: 5,000 A/A experiments for the cheap methods (FPR bound [3.99%, 6.01%] = α ± 3.29 SE), 1,500 for
quantiles and peeking (quantile FPR bound [3.15%, 6.85%]), 2,000 for power (±3pp) and CUPED. A calibrated
method falls outside a 3.29-SE bound in 0.1% of seeds; the seed is fixed, so the run is deterministic.
"""

from __future__ import annotations

import os

import pytest

from evals.calibration import format_table, run


def _assert_all_within_bounds(size: str) -> None:
    rows = run(size)
    failed = [r for r in rows if not r.ok]
    assert not failed, "\n" + format_table(failed)
    names = {r.name for r in rows}
    assert any("must explode" in n for n in names) and any("mSPRT" in n for n in names)
    aa = [r for r in rows if r.section == "A/A false positives" and "must FAIL" not in r.name]
    assert len(aa) >= 9 and all(r.experiments >= 1500 for r in aa)


def test_calibration_ci_size() -> None:
    _assert_all_within_bounds("ci")


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("RA_CALIBRATION") != "full",
    reason="10,000 experiments per method (~1.5 min): run with RA_CALIBRATION=full pytest -m slow",
)
def test_calibration_full_size() -> None:
    _assert_all_within_bounds("full")
