"""Holm and BH equal statsmodels' multipletests to 1e-12; Dunnett's critical values match the tables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from statsmodels.stats.multitest import multipletests

from routing_agent.stats import adjust_p_values, dunnett_critical_value
from tests.stats.support import close

METHODS = [("holm", "holm"), ("bh", "fdr_bh"), ("bonferroni", "bonferroni")]


@pytest.mark.parametrize(("ours", "theirs"), METHODS)
@pytest.mark.parametrize("m", [1, 2, 3, 7, 40])
def test_matches_multipletests(ours: str, theirs: str, m: int) -> None:
    rng = np.random.default_rng(m)
    p = np.concatenate([rng.uniform(0, 0.02, m // 2), rng.uniform(0, 1, m - m // 2)])
    if m > 2:
        p[1] = p[2]  # ties
    r = adjust_p_values(p, method=ours)  # type: ignore[arg-type]
    reject, adjusted, _, _ = multipletests(p, alpha=0.05, method=theirs)
    assert all(close(a, b, 1e-12) for a, b in zip(r.adjusted, adjusted, strict=True))
    assert r.reject == tuple(bool(x) for x in reject)


def test_edge_values() -> None:
    r = adjust_p_values([0.0, 1.0, 0.5], method="holm")
    assert r.adjusted == (0.0, 1.0, 1.0)
    assert adjust_p_values([], method="bh").adjusted == ()
    assert adjust_p_values([0.04], method="none").reject == (True,)
    with pytest.raises(ValueError):
        adjust_p_values([float("nan")])
    with pytest.raises(ValueError):
        adjust_p_values([0.1], method="sidak")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("k", "two_sided", "table"),
    [(2, True, 2.21), (3, True, 2.35), (4, True, 2.44), (2, False, 1.92), (3, False, 2.06), (4, False, 2.16)],
)
def test_dunnett_matches_published_tables(k: int, two_sided: bool, table: float) -> None:
    # Dunnett (1955/1964), df = ∞, α = 0.05, equal groups (ρ = 0.5), two decimals
    assert round(dunnett_critical_value(k, 0.05, two_sided=two_sided), 2) == table


def test_dunnett_coverage_against_multivariate_normal() -> None:
    c = dunnett_critical_value(3, 0.05, rho=0.2)
    cov = np.full((3, 3), 0.2) + 0.8 * np.eye(3)
    coverage = multivariate_normal(np.zeros(3), cov).cdf(
        np.full(3, c), lower_limit=np.full(3, -c), rng=np.random.default_rng(0)
    )
    assert abs(coverage - 0.95) < 1e-4  # scipy's integrator is quasi-Monte Carlo
    assert close(dunnett_critical_value(1, 0.05), 1.959963984540054)
