"""Segments: per-value analysis, Holm within the key, the regressing segment named, Cochran's Q."""

from __future__ import annotations

import numpy as np
from scipy import stats

from routing_agent.stats import SampleSummary, adjust_p_values, analyze_segments, compare_proportions
from tests.stats.support import close


def _groups() -> dict[str, tuple[SampleSummary, SampleSummary]]:
    return {
        "free": (SampleSummary.from_counts(4250, 5000), SampleSummary.from_counts(4420, 5000)),  # better
        "paid": (SampleSummary.from_counts(1740, 2000), SampleSummary.from_counts(1620, 2000)),  # worse
        "trial": (SampleSummary.from_counts(430, 500), SampleSummary.from_counts(428, 500)),  # same
    }


def test_names_the_segment_that_regresses() -> None:
    a = analyze_segments("tier", _groups(), compare_proportions)
    assert [s.value for s in a.worse] == ["paid"]
    assert a.get("free").significant and not a.get("free").worse
    assert not a.get("trial").significant
    raw = [compare_proportions(*g).p_value for g in _groups().values()]
    assert [s.adjusted_p_value for s in a.segments] == list(adjust_p_values(raw, method="holm").adjusted)


def test_direction_decides_what_worse_means() -> None:
    a = analyze_segments("tier", _groups(), compare_proportions, direction="decrease")
    assert [s.value for s in a.worse] == ["free"]


def test_heterogeneity_is_cochrans_q() -> None:
    a = analyze_segments("tier", _groups(), compare_proportions)
    effects = np.array([s.result.absolute_effect for s in a.segments])
    w = 1 / np.array([s.result.std_error for s in a.segments]) ** 2
    q = float(np.sum(w * (effects - np.sum(w * effects) / w.sum()) ** 2))
    assert close(a.heterogeneity_statistic, q)
    assert close(a.heterogeneity_p_value, stats.chi2.sf(q, 2))
    assert a.heterogeneity_p_value < 1e-6


def test_unreliable_segments_are_never_significant() -> None:
    groups = {"tiny": (SampleSummary.from_counts(0, 3), SampleSummary.from_counts(3, 3))}
    a = analyze_segments("tier", groups, compare_proportions)
    assert not a.get("tiny").significant and a.heterogeneity_p_value == 1.0
