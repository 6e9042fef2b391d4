"""Quantile CIs: the clustered delta method vs statsmodels, a cluster bootstrap, and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from routing_agent.stats import ClusteredValues, compare_quantiles, estimate_quantile
from tests.stats.support import close


def latencies(rng: np.random.Generator, n_units: int, scale: float = 1.0) -> ClusteredValues:
    """Per-call latencies with a per-session speed factor (calls of one session are correlated)."""
    calls = 1 + rng.poisson(4, n_units)
    session = rng.lognormal(0.0, 0.4, n_units)
    units = np.repeat(np.arange(n_units), calls)
    values = scale * session[units] * rng.lognormal(0.0, 0.5, units.size)
    return ClusteredValues(values, units)


def test_cdf_standard_error_equals_cluster_robust_ols_of_the_indicator() -> None:
    rng = np.random.default_rng(0)
    sample = latencies(rng, 600)
    q95 = float(np.quantile(sample.values, 0.95))
    indicator = (sample.values <= q95).astype(float)
    ols = sm.OLS(indicator, np.ones((indicator.size, 1))).fit(
        cov_type="cluster", cov_kwds={"groups": sample.units}
    )
    tail = sample.tail_summary(q95)
    assert close(tail.ratio, ols.params[0])
    assert close(tail.variance_of_ratio, ols.bse[0] ** 2)


def test_interval_is_the_woodruff_interval() -> None:
    rng = np.random.default_rng(1)
    sample = latencies(rng, 800)
    est = estimate_quantile(sample, 0.5)
    sigma = math.sqrt(sample.tail_summary(est.value).variance_of_ratio)
    z = stats.norm.ppf(0.975)
    low, high = np.quantile(sample.values, [0.5 - z * sigma, 0.5 + z * sigma])
    assert close(est.value, float(np.median(sample.values)))
    assert close(est.ci_low, low) and close(est.ci_high, high)
    assert close(est.std_error, (high - low) / (2 * z))
    assert est.warnings == ()


def _cluster_bootstrap_se(sample: ClusteredValues, q: float, reps: int, seed: int) -> float:
    order = np.argsort(sample.units, kind="stable")
    values, units = sample.values[order], sample.units[order]
    starts = np.searchsorted(units, np.arange(sample.n_units))
    ends = np.append(starts[1:], units.size)
    groups = [values[s:e] for s, e in zip(starts, ends, strict=True)]
    rng = np.random.default_rng(seed)
    draws = [
        np.quantile(np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))]), q)
        for _ in range(reps)
    ]
    return float(np.std(draws, ddof=1))


@pytest.mark.parametrize("q", [0.5, 0.95])
def test_standard_error_agrees_with_a_fixed_seed_cluster_bootstrap(q: float) -> None:
    rng = np.random.default_rng(2)
    sample = latencies(rng, 1500)
    delta = estimate_quantile(sample, q).std_error
    boot = _cluster_bootstrap_se(sample, q, reps=400, seed=7)
    # 400 resamples estimate an SE to about ±3.5% (1/√(2·400)); allow 4 of those
    assert abs(delta / boot - 1) < 0.15, (delta, boot)


def test_ignoring_clusters_would_understate_the_error() -> None:
    rng = np.random.default_rng(3)
    sample = latencies(rng, 1500)
    clustered = estimate_quantile(sample, 0.5).std_error
    naive = estimate_quantile(ClusteredValues.unclustered(sample.values), 0.5).std_error
    assert clustered > 1.3 * naive


def test_difference_detects_a_slower_candidate_and_reports_both_arms() -> None:
    rng = np.random.default_rng(4)
    c, t = latencies(rng, 1500), latencies(rng, 1500, scale=1.15)
    r = compare_quantiles(c, t, q=0.95)
    assert r.p_value < 0.01 and r.absolute_effect > 0 and r.reliable
    assert r.relative_effect is not None and 0.05 < r.relative_effect < 0.3
    assert close(r.std_error, math.hypot(r.control_estimate.std_error, r.treatment_estimate.std_error))
    assert r.control_estimate.ci_low <= r.control_mean <= r.control_estimate.ci_high


def test_from_groups_equals_explicit_units() -> None:
    groups = [[1.0, 2.0], [3.0], [4.0, 5.0, 6.0]] * 20
    a = ClusteredValues.from_groups(groups)
    b = ClusteredValues(
        np.concatenate([np.asarray(g) for g in groups]), np.repeat(np.arange(60), [2, 1, 3] * 20)
    )
    assert estimate_quantile(a, 0.5) == estimate_quantile(b, 0.5)
    assert a.n_units == 60 and a.n_calls == 120


def test_sparse_tails_and_degenerate_samples_are_flagged() -> None:
    rng = np.random.default_rng(5)
    small = ClusteredValues.unclustered(rng.lognormal(0, 1, 200))
    r = compare_quantiles(small, small, q=0.99)
    assert not r.reliable and any("too few" in w for w in r.warnings)
    constant = ClusteredValues.unclustered(np.full(500, 0.3))
    r = compare_quantiles(constant, constant, q=0.5)
    assert not r.reliable and r.p_value == 1.0
    empty = ClusteredValues.unclustered([])
    r = compare_quantiles(empty, small, q=0.5)
    assert not r.reliable and not math.isnan(r.p_value)
    with pytest.raises(ValueError):
        compare_quantiles(small, small, q=1.0)


@pytest.mark.parametrize("n", [1, 2, 7, 1001])
def test_cached_sort_quantile_equals_numpy(n: int) -> None:
    values = np.random.default_rng(n).lognormal(size=n)
    sample = ClusteredValues.unclustered(values)
    for q in np.linspace(0, 1, 41):
        assert close(sample.quantile(float(q)), float(np.quantile(values, q)), 1e-12)
