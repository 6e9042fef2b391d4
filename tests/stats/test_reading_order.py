"""The seeds' reading order can be followed from the result records alone.

"1. Did guardrails hold? 2. Is the primary significant? 3. Is the effect size meaningful (vs the MDE)?
4. Does the result hold across segments?" — with the worked example's numbers: resolution 0.871 → 0.859,
guardrails held, not significant.
"""

from __future__ import annotations

import numpy as np

from routing_agent.stats import (
    ClusteredValues,
    SampleSummary,
    analyze_segments,
    compare_proportions,
    compare_quantiles,
    sequential_test,
    srm_test,
)


def test_worked_example_reads_no_difference_detected() -> None:
    rng = np.random.default_rng(7)
    n = 3600
    control = SampleSummary.from_counts(round(0.871 * n), n)
    candidate = SampleSummary.from_counts(round(0.859 * n), n)

    # 0. the split is what the config says
    assert not srm_test({"sonnet": n, "haiku": n}, {"sonnet": 0.5, "haiku": 0.5}).mismatch
    # 1. guardrails: p95 latency within 1.3x (always-valid on refusals, point estimate on latency)
    lat_c = ClusteredValues.unclustered(rng.lognormal(0.0, 0.4, n))
    lat_t = ClusteredValues.unclustered(rng.lognormal(-0.3, 0.4, n))
    p95 = compare_quantiles(lat_c, lat_t, q=0.95)
    assert p95.relative_effect is not None and p95.relative_effect < 0.3
    refusals = sequential_test(
        SampleSummary.from_counts(36, n), SampleSummary.from_counts(41, n), kind="proportion"
    )
    refusals_doubled = refusals.relative_ci_low is not None and refusals.relative_ci_low > 1.0
    assert not refusals_doubled
    # 2. significance: the pre-specified test on the primary
    primary = compare_proportions(control, candidate)
    assert primary.reliable and not primary.significant
    # the seeds' interval, [-0.024, 0.000] give or take rounding of the example's counts
    assert -0.03 < primary.ci_low < -0.02 and -0.002 < primary.ci_high < 0.004
    # 3. effect vs MDE: the CI still includes a 2pp loss, so "cheaper with confidence" needs NI, not this
    mde = 0.02
    assert primary.ci_low < -mde < primary.ci_high
    # 4. segments: easy tickets are fine, complex ones lose
    segments = analyze_segments(
        "difficulty",
        {
            "easy": (SampleSummary.from_counts(1700, 1800), SampleSummary.from_counts(1695, 1800)),
            "complex": (SampleSummary.from_counts(1436, 1800), SampleSummary.from_counts(1290, 1800)),
        },
        compare_proportions,
    )
    assert [s.value for s in segments.worse] == ["complex"]
