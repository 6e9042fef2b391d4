"""Unit of analysis: under session randomization a per-call test inflates false positives; per-unit does not.

Sessions have their own error propensity (Beta, intra-session correlation 0.2) and about 10 calls each, so
one session's calls are far from independent. The naive analysis treats every call as a unit (two-proportion
z test on calls); the per-unit analysis uses the delta-method ratio over sessions.
"""

from __future__ import annotations

import math

import numpy as np

from routing_agent.stats import RatioSummary, SampleSummary, compare_proportions, compare_ratios
from tests.stats.support import sessions

EXPERIMENTS = 400
SESSIONS_PER_ARM = 500


def test_naive_per_call_analysis_inflates_false_positives_per_unit_does_not() -> None:
    rng = np.random.default_rng(2024)
    naive = per_unit = 0
    for _ in range(EXPERIMENTS):
        ec, cc = sessions(rng, SESSIONS_PER_ARM, mean_calls=10, rate=0.1, spread=4.0)
        et, ct = sessions(rng, SESSIONS_PER_ARM, mean_calls=10, rate=0.1, spread=4.0)
        calls_c = SampleSummary.from_counts(int(ec.sum()), int(cc.sum()))
        calls_t = SampleSummary.from_counts(int(et.sum()), int(ct.sum()))
        naive += compare_proportions(calls_c, calls_t).p_value < 0.05
        per_unit += (
            compare_ratios(RatioSummary.from_values(ec, cc), RatioSummary.from_values(et, ct)).p_value < 0.05
        )
    naive_rate, unit_rate = naive / EXPERIMENTS, per_unit / EXPERIMENTS
    # Monte Carlo: 400 A/A runs put a calibrated 5% within ±3.6pp (3.29 SE, 99.9%)
    bound = 3.29 * math.sqrt(0.05 * 0.95 / EXPERIMENTS)
    assert abs(unit_rate - 0.05) <= bound, unit_rate
    assert naive_rate >= 0.15, naive_rate  # design effect ≈ 2.8: about 24% expected
    assert naive_rate >= 3 * unit_rate
