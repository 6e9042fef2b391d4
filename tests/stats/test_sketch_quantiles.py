"""Quantiles from a histogram plus clustered tail counts: agree with the raw-value method, calibrated."""

from __future__ import annotations

import math

import numpy as np

from routing_agent.stats.quantiles import ClusteredValues, estimate_quantile
from routing_agent.stats.results import compare_arms
from routing_agent.stats.sketch_quantiles import estimate_quantile_from_sketch
from routing_agent.stats.summaries import RatioSummary
from routing_agent.stores.observations.aggregates import LogHistogram


def clustered_latencies(
    rng: np.random.Generator, units: int, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Sessions of 1-8 calls; a per-session slowness shared by its calls (intra-unit correlation)."""
    sizes = rng.integers(1, 9, units)
    session = np.repeat(rng.normal(0.0, 0.4, units), sizes)
    values = scale * np.exp(session + rng.normal(0.0, 0.4, sizes.sum()))
    return values, np.repeat(np.arange(units), sizes)


def sketch_estimate(values: np.ndarray, units: np.ndarray, q: float):  # type: ignore[no-untyped-def]
    hist = LogHistogram()
    for v in values:
        hist.add(float(v))
    threshold = hist.quantile(q)
    below = np.bincount(units, weights=values <= threshold)
    calls = np.bincount(units).astype(float)
    return estimate_quantile_from_sketch(hist.quantile, RatioSummary.from_values(below, calls), q=q)


def test_agrees_with_the_raw_value_method() -> None:
    rng = np.random.default_rng(3)
    values, units = clustered_latencies(rng, 3000)
    raw = estimate_quantile(ClusteredValues(values, units), 0.95)
    sketch = sketch_estimate(values, units, 0.95)
    assert math.isclose(sketch.value, raw.value, rel_tol=0.015)
    assert math.isclose(sketch.std_error, raw.std_error, rel_tol=0.15)
    assert sketch.n_units == 3000 and sketch.n_calls == values.size and not sketch.warnings
    assert sketch.ci_low < sketch.value < sketch.ci_high


def test_clustering_is_not_ignored() -> None:
    """Unclustered counts (every call its own unit) understate the standard error of a clustered p95."""
    rng = np.random.default_rng(4)
    values, units = clustered_latencies(rng, 2000)
    clustered = sketch_estimate(values, units, 0.95)
    naive = sketch_estimate(values, np.arange(values.size), 0.95)
    assert clustered.std_error > 1.3 * naive.std_error


def test_null_rejection_rate_of_the_p95_difference_is_about_alpha() -> None:
    """Two arms from the same clustered distribution: the z test on sketch p95s rejects ~5% of the time."""
    rng = np.random.default_rng(11)
    rejections, reps = 0, 300
    for _ in range(reps):
        c = sketch_estimate(*clustered_latencies(rng, 400), 0.95)
        t = sketch_estimate(*clustered_latencies(rng, 400), 0.95)
        rejections += compare_arms(c.arm(), t.arm(), method="p95", alpha=0.05).significant
    assert 0.015 <= rejections / reps <= 0.09, rejections / reps


def test_degenerate_inputs_are_data_not_errors() -> None:
    empty = estimate_quantile_from_sketch(LogHistogram().quantile, RatioSummary.from_values([], []), q=0.95)
    assert empty.n_calls == 0 and empty.warnings == ("no values",)
    hist = LogHistogram()
    for v in (1.0, 2.0, 3.0):
        hist.add(v)
    few = estimate_quantile_from_sketch(hist.quantile, RatioSummary.from_values([2.0], [3.0]), q=0.95)
    assert any("units" in w for w in few.warnings) and any("calls beyond" in w for w in few.warnings)
    assert few.std_error > 0
