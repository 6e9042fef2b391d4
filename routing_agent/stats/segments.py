"""Segments: the same comparison per segment value, corrected for multiplicity within the segment key.

"If the primary improved overall but degraded on your paid tier, you don't have a win — you have a
segmentation decision to make." ``analyze_segments`` runs one analysis (any function returning an
``EffectResult``: proportions, Welch, ratio, CUPED, quantiles) on every value of one segment key, adjusts the
p-values across those values (Holm by default — each key is its own family), and names the values where
the effect is significantly in the *bad* direction. Cochran's Q (a chi-square test that the per-segment
effects are equal, weighting by ``1/se²``) says whether the effect differs between segments at all.
"""

from __future__ import annotations

__all__ = ["SegmentAnalysis", "SegmentResult", "analyze_segments"]

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from scipy import special

from routing_agent.stats.multiplicity import Correction, adjust_p_values
from routing_agent.stats.results import EffectResult

S = TypeVar("S")


@dataclass(frozen=True, kw_only=True, slots=True)
class SegmentResult:
    """One segment value's comparison and its p-value adjusted within the segment key."""

    value: str
    result: EffectResult
    adjusted_p_value: float
    significant: bool
    """Adjusted p-value below alpha and the comparison is reliable."""
    worse: bool
    """Significant, and the effect goes the bad way for the metric's direction."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SegmentAnalysis:
    """Every value of one segment key, the correction used, and the heterogeneity test."""

    key: str
    correction: Correction
    alpha: float
    segments: tuple[SegmentResult, ...]
    heterogeneity_statistic: float
    heterogeneity_p_value: float
    """Cochran's Q test that all reliable segments share one effect (1.0 with fewer than two)."""

    @property
    def worse(self) -> tuple[SegmentResult, ...]:
        """Segments where the candidate is significantly worse (reading order step 4)."""
        return tuple(s for s in self.segments if s.worse)

    def get(self, value: str) -> SegmentResult:
        """The result for one segment value (KeyError if absent)."""
        for s in self.segments:
            if s.value == value:
                return s
        raise KeyError(value)


def analyze_segments(
    key: str,
    groups: Mapping[str, tuple[S, S]],
    analyze: Callable[[S, S], EffectResult],
    *,
    direction: Literal["increase", "decrease"] = "increase",
    correction: Correction = "holm",
    alpha: float = 0.05,
) -> SegmentAnalysis:
    """Run ``analyze(control, treatment)`` on each ``groups[value]`` and correct across values.

    ``groups`` maps a segment value (e.g. ``"free"``, ``"paid"``) to that segment's (control, treatment)
    summaries. ``direction`` is which way is better, so ``worse`` can name the segments that regress.
    """
    values = list(groups)
    results = [analyze(*groups[v]) for v in values]
    adjusted = adjust_p_values([r.p_value for r in results], method=correction, alpha=alpha)
    segments = []
    for value, result, p_adj in zip(values, results, adjusted.adjusted, strict=True):
        significant = p_adj < alpha and result.reliable
        bad = result.absolute_effect < 0 if direction == "increase" else result.absolute_effect > 0
        segments.append(
            SegmentResult(
                value=value, result=result, adjusted_p_value=p_adj, significant=significant,
                worse=significant and bad,
            )
        )  # fmt: skip
    usable = [r for r in results if r.reliable and r.std_error > 0]
    q_stat, q_p = 0.0, 1.0
    if len(usable) >= 2:
        weights = [1.0 / r.std_error**2 for r in usable]
        pooled = sum(w * r.absolute_effect for w, r in zip(weights, usable, strict=True)) / sum(weights)
        q_stat = sum(w * (r.absolute_effect - pooled) ** 2 for w, r in zip(weights, usable, strict=True))
        q_p = float(special.chdtrc(len(usable) - 1, q_stat))
    return SegmentAnalysis(
        key=key, correction=correction, alpha=alpha, segments=tuple(segments),
        heterogeneity_statistic=q_stat, heterogeneity_p_value=q_p,
    )  # fmt: skip
