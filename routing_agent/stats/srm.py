"""Sample-ratio mismatch: are units split across variants the way the config says?

A chi-square goodness-of-fit test of the observed unit counts against the configured weights
(``scipy.stats.chisquare`` gives the same statistic and p-value). A mismatch means assignment, logging or
filtering is broken, and no effect estimate from the experiment can be trusted.

Two conditions must both hold to flag a mismatch: ``p < threshold`` (default 0.001, the industry default;
Fabijan et al., "Diagnosing Sample Ratio Mismatch in Online Controlled Experiments", KDD 2019) *and* some
variant's observed share deviates from its configured share by more than ``min_relative_deviation``
(default 1% of the configured share). The guard keeps a 50.2/49.8 split of ten million units — p ≈ 1e-36,
harmless — from stopping an experiment; set it to 0 for the pure test.
"""

from __future__ import annotations

__all__ = ["SrmResult", "srm_test"]

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import special

MIN_EXPECTED = 5.0
"""Expected counts below this make the chi-square approximation unreliable."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SrmResult:
    """The SRM check: statistic, p-value, the largest relative deviation, and the verdict ``mismatch``."""

    variants: tuple[str, ...]
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    statistic: float
    df: int
    p_value: float
    max_relative_deviation: float
    """max over variants of ``|observed share − configured share| / configured share``."""
    threshold: float
    min_relative_deviation: float
    mismatch: bool
    reliable: bool = True
    warnings: tuple[str, ...] = ()


def srm_test(
    counts: Mapping[str, int] | Sequence[int],
    weights: Mapping[str, float] | Sequence[float],
    *,
    threshold: float = 0.001,
    min_relative_deviation: float = 0.01,
) -> SrmResult:
    """Chi-square goodness of fit of unit counts per variant against the configured weights.

    ``counts`` and ``weights`` are mappings keyed by variant name (same keys) or sequences in the same
    order. Weights need not sum to 1. A variant with weight 0 but units assigned is always a mismatch.
    """
    if isinstance(counts, Mapping):
        if not isinstance(weights, Mapping) or set(counts) != set(weights):
            raise ValueError("counts and weights must name the same variants")
        names = tuple(counts)
        obs = [int(counts[k]) for k in names]
        w = [float(weights[k]) for k in names]
    else:
        if isinstance(weights, Mapping):
            raise ValueError("give counts and weights both as mappings or both as sequences")
        obs, w = [int(c) for c in counts], [float(x) for x in weights]
        names = tuple(str(i) for i in range(len(obs)))
    if len(obs) != len(w) or len(obs) < 2:
        raise ValueError("need at least two variants, with one weight per count")
    if any(c < 0 for c in obs) or any(x < 0 or not math.isfinite(x) for x in w) or sum(w) <= 0:
        raise ValueError("counts must be >= 0 and weights finite, >= 0, and not all 0")
    total, w_total = sum(obs), math.fsum(w)
    shares = [x / w_total for x in w]
    expected = tuple(total * s for s in shares)
    notes: list[str] = []
    if total == 0:
        return SrmResult(
            variants=names, observed=tuple(obs), expected=expected, statistic=0.0, df=len(obs) - 1,
            p_value=1.0, max_relative_deviation=0.0, threshold=threshold,
            min_relative_deviation=min_relative_deviation, mismatch=False, reliable=False,
            warnings=("no units yet",),
        )  # fmt: skip
    statistic, deviation, impossible = 0.0, 0.0, False
    for o, e, s in zip(obs, expected, shares, strict=True):
        if e == 0:
            impossible = impossible or o > 0
            continue
        statistic += (o - e) ** 2 / e
        deviation = max(deviation, abs(o / total - s) / s)
    live = sum(1 for e in expected if e > 0)
    df = max(live - 1, 1)
    if impossible:
        notes.append("units were assigned to a variant whose weight is 0")
        statistic, p_value, deviation = math.inf, 0.0, math.inf
    else:
        p_value = float(special.chdtrc(df, statistic))
    if any(0 < e < MIN_EXPECTED for e in expected):
        notes.append(f"an expected count is below {MIN_EXPECTED:g}: the chi-square approximation is poor")
    mismatch = p_value < threshold and deviation > min_relative_deviation
    return SrmResult(
        variants=names, observed=tuple(obs), expected=expected, statistic=statistic, df=df,
        p_value=p_value, max_relative_deviation=deviation, threshold=threshold,
        min_relative_deviation=min_relative_deviation, mismatch=mismatch,
        reliable=not any("approximation" in n for n in notes), warnings=tuple(notes),
    )  # fmt: skip
