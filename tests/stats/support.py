"""Shared helpers for the statistics tests: a tight relative comparison and small data generators."""

from __future__ import annotations

import math

import numpy as np

RTOL = 1e-9


def close(ours: float | None, reference: float, rtol: float = RTOL, atol: float = 1e-15) -> bool:
    """``ours`` equals ``reference`` to ``rtol`` relative (``atol`` absolute for values at zero)."""
    if ours is None:
        return False
    ref = float(reference)
    if math.isinf(ref) or math.isinf(ours):
        return ours == ref
    return abs(ours - ref) <= max(rtol * abs(ref), atol)


def sessions(
    rng: np.random.Generator, n_units: int, *, mean_calls: float = 4.0, rate: float = 0.1, spread: float = 8.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit (errors, calls): calls ~ 1 + Poisson, each session has its own error propensity."""
    calls = 1 + rng.poisson(mean_calls - 1, n_units)
    propensity = rng.beta(rate * spread, (1 - rate) * spread, n_units)
    errors = rng.binomial(calls, propensity)
    return errors.astype(np.float64), calls.astype(np.float64)
