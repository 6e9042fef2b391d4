"""Multiple comparisons: Holm and Benjamini–Hochberg adjusted p-values, and Dunnett's critical value.

* ``holm`` (default) controls the family-wise error rate — the chance of *any* false positive among the
  metrics and arms — and is uniformly more powerful than Bonferroni (Holm, Scand. J. Statist. 1979).
* ``bh`` controls the false discovery rate (Benjamini & Hochberg, JRSS B 1995): use it for many secondary
  metrics where a few false leads are acceptable.
* ``bonferroni`` is there for comparison and for the power calculator.

Adjusted p-values equal ``statsmodels.stats.multitest.multipletests`` (``holm``, ``fdr_bh``,
``bonferroni``) to 1e-12; a hypothesis is rejected when its adjusted p-value is below ``alpha``.

``dunnett_critical_value`` is the critical value for comparing k treatment arms with one shared control
(Dunnett, JASA 1955), by one-dimensional integration over the shared control's noise (exact for
equal-sized treatment arms, whose z statistics are equicorrelated with ``ρ = n_t / (n_t + n_c)``).
"""

from __future__ import annotations

__all__ = ["Correction", "MultiplicityResult", "adjust_p_values", "dunnett_critical_value"]

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import integrate, optimize, special

Correction = Literal["holm", "bh", "bonferroni", "none"]


@dataclass(frozen=True, kw_only=True, slots=True)
class MultiplicityResult:
    """Raw and adjusted p-values (input order) and which hypotheses are rejected at ``alpha``."""

    method: Correction
    alpha: float
    p_values: tuple[float, ...]
    adjusted: tuple[float, ...]
    reject: tuple[bool, ...]


def adjust_p_values(
    p_values: Sequence[float], *, method: Correction = "holm", alpha: float = 0.05
) -> MultiplicityResult:
    """Adjust a family of p-values (one per metric × arm) for multiple comparisons."""
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must be finite numbers in [0, 1]")
    m = p.size
    if m == 0:
        return MultiplicityResult(method=method, alpha=alpha, p_values=(), adjusted=(), reject=())
    if method == "none":
        adjusted = p.copy()
    elif method == "bonferroni":
        adjusted = np.minimum(p * m, 1.0)
    elif method == "holm":
        order = np.argsort(p, kind="stable")
        stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(stepped, 1.0)
    elif method == "bh":
        order = np.argsort(p, kind="stable")[::-1]
        scaled = p[order] * m / np.arange(m, 0, -1)
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(np.minimum.accumulate(scaled), 1.0)
    else:
        raise ValueError(f"unknown correction {method!r}: use holm, bh, bonferroni or none")
    return MultiplicityResult(
        method=method,
        alpha=alpha,
        p_values=tuple(float(x) for x in p),
        adjusted=tuple(float(x) for x in adjusted),
        reject=tuple(bool(x < alpha) for x in adjusted),
    )


def _dunnett_coverage(c: float, k: int, rho: float, two_sided: bool) -> float:
    """P(all k equicorrelated standard normal statistics stay inside the bound c)."""
    if rho <= 0:
        one = special.ndtr(c) - (special.ndtr(-c) if two_sided else 0.0)
        return float(one**k)
    a, b = math.sqrt(rho), math.sqrt(1.0 - rho)

    def integrand(u: float) -> float:
        upper = special.ndtr((c + a * u) / b)
        lower = special.ndtr((-c + a * u) / b) if two_sided else 0.0
        return float(math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi) * (upper - lower) ** k)

    value, _ = integrate.quad(integrand, -12.0, 12.0, epsabs=1e-13, epsrel=1e-12, limit=200)
    return float(value)


def dunnett_critical_value(k: int, alpha: float, *, rho: float = 0.5, two_sided: bool = True) -> float:
    """Critical |z| so that k treatment-vs-control z tests have family-wise error ``alpha``.

    ``rho`` is the correlation between two comparisons sharing the control, ``n_t / (n_t + n_c)`` for
    equal treatment arms (0.5 when every arm has the same size). ``k = 1`` gives the ordinary z quantile.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if not 0 <= rho < 1:
        raise ValueError("rho must be in [0, 1)")
    tail = alpha / 2.0 if two_sided else alpha
    if k == 1:
        return float(special.ndtri(1.0 - tail))
    low = float(special.ndtri(1.0 - tail))  # no correction
    high = float(special.ndtri(1.0 - tail / k)) + 0.5  # beyond Bonferroni
    return float(
        optimize.brentq(
            lambda c: _dunnett_coverage(c, k, rho, two_sided) - (1.0 - alpha), low, high, xtol=1e-12
        )
    )
