"""One-sided mSPRT for a non-inferiority primary: H0 is "worse by the margin or more", not "no difference"."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from routing_agent.stats import SampleSummary, sequential_test
from tests.stats.support import close


def _half_normal_mixture(estimate: float, v: float, tau2: float, null: float) -> float:
    """Λ₊ by numerical integration: ∫_{θ>θ₀} N(Δ̂; θ, V)/N(Δ̂; θ₀, V) · 2·N(θ − θ₀; 0, τ²) dθ."""

    def integrand(u: float) -> float:
        log_lr = (u * (estimate - null) - u * u / 2.0) / v
        return math.exp(log_lr) * 2.0 * stats.norm.pdf(u, scale=math.sqrt(tau2))

    value, _ = integrate.quad(integrand, 0.0, np.inf, epsabs=0, epsrel=1e-12, limit=200)
    return value


@pytest.mark.parametrize("successes", [380, 400, 420, 440])
def test_one_sided_p_value_is_the_half_normal_mixture(successes: int) -> None:
    c, t = SampleSummary.from_counts(400, 1000), SampleSummary.from_counts(successes, 1000)
    tau2 = 4e-4
    r = sequential_test(c, t, kind="proportion", mixing_variance=tau2, null_value=-0.02, alternative="larger")
    v = 0.4 * 0.6 / 1000 + t.mean * (1 - t.mean) / 1000
    lam = _half_normal_mixture(t.mean - 0.4, v, tau2, -0.02)
    assert close(r.p_value, min(1.0, 1.0 / lam), rtol=1e-7)
    assert r.ci_high == math.inf and r.alternative == "larger" and r.method_id == "msprt"
    # the bound is the margin at which the test sits exactly at alpha (p-value / sequence duality)
    at_bound = sequential_test(
        c, t, kind="proportion", mixing_variance=tau2, null_value=r.ci_low, alternative="larger"
    )
    assert close(at_bound.p_value, 0.05, rtol=1e-6)


def test_smaller_mirrors_larger() -> None:
    c, t = (
        SampleSummary.from_values(np.linspace(1, 3, 500)),
        SampleSummary.from_values(np.linspace(1.05, 3.1, 500)),
    )
    up = sequential_test(c, t, null_value=0.3, alternative="smaller", mixing_variance=1e-3)
    down = sequential_test(t, c, null_value=-0.3, alternative="larger", mixing_variance=1e-3)
    assert close(up.p_value, down.p_value) and close(up.ci_high, -down.ci_low)


def test_the_issue_case_ni_evidence_is_not_an_equality_test() -> None:
    # a candidate equal to control, n large: non-inferiority at 0.02 is clear, while "equal?" never rejects
    c, t = SampleSummary.from_counts(8500, 10000), SampleSummary.from_counts(8490, 10000)
    equality = sequential_test(c, t, kind="proportion", horizon_units=20000)
    ni = sequential_test(c, t, kind="proportion", horizon_units=20000, null_value=-0.02, alternative="larger")
    assert equality.p_value > 0.05  # the "always-valid p = 0.75" reading of the issue
    assert ni.p_value < 0.05 and ni.ci_low > -0.02  # the hypothesis the decision actually needs


def test_all_success_control_gives_a_real_sequence_and_no_false_non_inferiority() -> None:
    c, t = SampleSummary.from_counts(4000, 4000), SampleSummary.from_counts(3960, 4000)
    two = sequential_test(c, t, kind="proportion", horizon_units=8000)
    assert "Agresti–Caffo" in two.method and two.ci_high < 0 < two.ci_high - two.ci_low
    ni = sequential_test(c, t, kind="proportion", horizon_units=8000, null_value=-0.005, alternative="larger")
    assert ni.p_value > 0.05 and ni.ci_low < -0.005


def _peek_rejects(rng: np.random.Generator, delta: float, margin: float, looks: int, per_look: int) -> bool:
    x = rng.normal(0.0, 1.0, looks * per_look)
    y = rng.normal(delta, 1.0, looks * per_look)
    previous = None
    for k in range(1, looks + 1):
        n = k * per_look
        c, t = SampleSummary.from_values(x[:n]), SampleSummary.from_values(y[:n])
        previous = sequential_test(
            c,
            t,
            null_value=-margin,
            alternative="larger",
            horizon_units=2 * looks * per_look,
            previous=previous,
        )
        if previous.p_value < 0.05:
            return True
    return False


@pytest.mark.parametrize("depth", [0.0, 0.05])
def test_peeking_at_every_look_keeps_the_one_sided_error_below_alpha(depth: float) -> None:
    # truth exactly at the margin (depth 0) or worse than it: P(ever declaring non-inferior) <= alpha
    rng = np.random.default_rng(12)
    runs = 400
    hits = sum(_peek_rejects(rng, -0.1 - depth, 0.1, looks=20, per_look=100) for _ in range(runs))
    rate = hits / runs
    assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs), rate


def test_running_bound_only_moves_towards_the_alternative() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 1, 3000), rng.normal(0.0, 1, 3000)
    previous = None
    lows = []
    for n in range(300, 3001, 300):
        previous = sequential_test(
            SampleSummary.from_values(x[:n]), SampleSummary.from_values(y[:n]), null_value=-0.1,
            alternative="larger", previous=previous,
        )  # fmt: skip
        lows.append(previous.ci_low)
    assert lows == sorted(lows) and previous is not None and previous.looks == 10


def test_peeking_near_one_with_the_agresti_caffo_variance_keeps_the_level() -> None:
    # control 100 %, candidate truly 0.5 pp worse (exactly at the margin): no false "non-inferior" above alpha
    rng = np.random.default_rng(14)
    runs, looks, per = 400, 20, 150
    hits = 0
    for _ in range(runs):
        worse = rng.random(looks * per) < 0.995
        previous = None
        for k in range(1, looks + 1):
            n = k * per
            previous = sequential_test(
                SampleSummary.from_counts(n, n), SampleSummary.from_counts(int(worse[:n].sum()), n),
                kind="proportion", null_value=-0.005, alternative="larger", horizon_units=2 * looks * per,
                previous=previous,
            )  # fmt: skip
            if previous.p_value < 0.05:
                hits += 1
                break
    rate = hits / runs
    assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs), rate
