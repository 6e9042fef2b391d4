"""CUPED equals the ANCOVA treatment coefficient, reduces variance by about ρ², and degrades to Welch."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm

from routing_agent.stats import CovariateSummary, SampleSummary, compare_means, cuped
from tests.stats.support import close


def _arms(rng: np.random.Generator, n: int, rho: float, effect: float) -> tuple[np.ndarray, ...]:
    xc, xt = rng.normal(10, 2, n), rng.normal(10, 2, n + 37)
    noise = 2 * np.sqrt(1 - rho**2) / rho
    yc = xc + rng.normal(0, noise, n)
    yt = xt + rng.normal(0, noise, n + 37) + effect
    return xc, yc, xt, yt


def test_effect_and_theta_equal_the_ancova_regression() -> None:
    rng = np.random.default_rng(0)
    xc, yc, xt, yt = _arms(rng, 2000, rho=0.7, effect=0.2)
    r = cuped(CovariateSummary.from_values(yc, xc), CovariateSummary.from_values(yt, xt))
    x = np.column_stack(
        [np.ones(xc.size + xt.size), np.r_[np.zeros(xc.size), np.ones(xt.size)], np.r_[xc, xt]]
    )
    ols = sm.OLS(np.r_[yc, yt], x).fit()
    assert close(r.absolute_effect, ols.params[1])
    assert close(r.theta, ols.params[2])
    # the per-arm residual variance treats θ as known; the regression's homoskedastic SE agrees closely
    assert abs(r.std_error / ols.bse[1] - 1) < 0.02


def test_variance_reduction_is_about_rho_squared() -> None:
    rng = np.random.default_rng(1)
    for rho in (0.3, 0.6, 0.9):
        xc, yc, xt, yt = _arms(rng, 20000, rho=rho, effect=0.0)
        r = cuped(CovariateSummary.from_values(yc, xc), CovariateSummary.from_values(yt, xt))
        assert abs(r.variance_reduction - rho**2) < 0.02, (rho, r.variance_reduction)
        assert close(r.unadjusted_std_error, compare_means(
            SampleSummary.from_values(yc), SampleSummary.from_values(yt)).std_error)  # fmt: skip


def test_a_useless_covariate_gives_back_welch() -> None:
    rng = np.random.default_rng(2)
    yc, yt = rng.normal(1, 1, 300), rng.normal(1.2, 1.5, 280)
    r = cuped(
        CovariateSummary.from_values(yc, np.zeros(300)), CovariateSummary.from_values(yt, np.zeros(280))
    )
    w = compare_means(SampleSummary.from_values(yc), SampleSummary.from_values(yt))
    assert r.theta == 0.0 and r.variance_reduction == 0.0
    for name in ("absolute_effect", "std_error", "statistic", "p_value", "df", "ci_low", "ci_high"):
        assert close(getattr(r, name), getattr(w, name)), name
    assert r.reliable and any("no variance" in x for x in r.warnings)


def test_adjusted_means_differ_by_the_effect_and_tiny_arms_are_flagged() -> None:
    rng = np.random.default_rng(3)
    xc, yc, xt, yt = _arms(rng, 500, rho=0.5, effect=1.0)
    r = cuped(CovariateSummary.from_values(yc, xc), CovariateSummary.from_values(yt, xt))
    assert close(r.treatment_mean - r.control_mean, r.absolute_effect, 1e-12)
    tiny = cuped(CovariateSummary.from_values(yc[:5], xc[:5]), CovariateSummary.from_values(yt[:5], xt[:5]))
    assert not tiny.reliable and not np.isnan(tiny.p_value)
