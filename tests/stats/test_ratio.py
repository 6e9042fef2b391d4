"""The delta-method ratio equals statsmodels' cluster-robust OLS on per-call rows to 1e-9."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm

from routing_agent.stats import RatioSummary, compare_ratios
from tests.stats.support import close, sessions


def _per_call_rows(errors: np.ndarray, calls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand per-session (errors, calls) into one 0/1 row per call, labelled with its session."""
    units = np.repeat(np.arange(calls.size), calls.astype(int))
    flags = np.zeros(units.size)
    start = np.concatenate([[0], np.cumsum(calls.astype(int))[:-1]])
    for s, e in zip(start, errors.astype(int), strict=True):
        flags[s : s + e] = 1.0
    return flags, units


def test_per_arm_variance_equals_cluster_robust_ols() -> None:
    rng = np.random.default_rng(0)
    errors, calls = sessions(rng, 400)
    flags, units = _per_call_rows(errors, calls)
    ols = sm.OLS(flags, np.ones((flags.size, 1))).fit(cov_type="cluster", cov_kwds={"groups": units})
    s = RatioSummary.from_values(errors, calls)
    assert close(s.ratio, ols.params[0])
    # statsmodels' small-sample factor G/(G−1)·(N−1)/(N−K) with K = 1 is exactly our n/(n−1)
    assert close(s.variance_of_ratio, ols.bse[0] ** 2)


def test_difference_equals_cluster_robust_treatment_coefficient() -> None:
    rng = np.random.default_rng(1)
    n = 500
    ec, cc = sessions(rng, n, rate=0.10)
    et, ct = sessions(rng, n, rate=0.13)
    fc, uc = _per_call_rows(ec, cc)
    ft, ut = _per_call_rows(et, ct)
    y = np.concatenate([fc, ft])
    x = np.column_stack([np.ones(y.size), np.concatenate([np.zeros(fc.size), np.ones(ft.size)])])
    groups = np.concatenate([uc, ut + n])
    ols = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    r = compare_ratios(RatioSummary.from_values(ec, cc), RatioSummary.from_values(et, ct))
    assert close(r.absolute_effect, ols.params[1])
    # CR0 has no small-sample factor; with equal arms ours is CR0 · n/(n−1)
    assert close(r.std_error**2, ols.bse[1] ** 2 * n / (n - 1))


def test_matches_the_textbook_formula_on_raw_arrays() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.gamma(2.0, 0.01, 1000), 1.0 + rng.poisson(3, 1000)
    s = RatioSummary.from_values(x, y)
    r = x.sum() / y.sum()
    manual = (np.var(x, ddof=1) - 2 * r * np.cov(x, y)[0, 1] + r * r * np.var(y, ddof=1)) / (
        1000 * y.mean() ** 2
    )
    assert close(s.variance_of_ratio, manual, 1e-10)


def test_edge_cases_are_flagged() -> None:
    empty = RatioSummary.from_values([0.0, 0.0], [0.0, 0.0])
    some = RatioSummary.from_values([1.0, 0.0, 2.0] * 20, [2.0, 1.0, 3.0] * 20)
    r = compare_ratios(empty, some)
    assert not r.reliable and any("denominator sums to 0" in w for w in r.warnings)
    assert r.p_value == r.p_value  # not NaN
    same = RatioSummary.from_values([1.0] * 40, [2.0] * 40)
    r = compare_ratios(same, same)
    assert not r.reliable and r.p_value == 1.0


def test_a_negative_denominator_is_refused_with_a_clear_message() -> None:
    good = RatioSummary.from_values([1.0, 2.0, 3.0] * 20, [1.0, 2.0, 1.0] * 20)
    bad = RatioSummary.from_values([1.0, 2.0, 3.0] * 20, [-1.0, -2.0, -1.0] * 20)
    r = compare_ratios(good, bad)
    assert not r.reliable and any("needs a positive denominator" in w for w in r.warnings)


def test_negative_costs_keep_the_sign_of_the_change() -> None:
    # refunds make a per-call cost negative: a candidate with a smaller loss is an increase, and says so
    control = RatioSummary.from_values([-2.0, -3.0, -2.5] * 30, [1.0, 2.0, 1.0] * 30)
    candidate = RatioSummary.from_values([-1.0, -1.5, -1.25] * 30, [1.0, 2.0, 1.0] * 30)
    r = compare_ratios(control, candidate)
    assert r.absolute_effect > 0 and r.relative_effect is not None and r.relative_effect > 0
    assert r.relative_ci_low is not None and r.relative_ci_low > 0
    assert any("control mean is negative" in w for w in r.warnings)
