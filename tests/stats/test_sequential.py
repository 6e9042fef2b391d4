"""mSPRT: the closed forms, p-value/sequence duality, running minimum, and no inflation under peeking."""

from __future__ import annotations

import math

import numpy as np
import pytest

from routing_agent.stats import RatioSummary, SampleSummary, compare_proportions, sequential_test
from routing_agent.stats.sequential import optimal_mixing_ratio
from tests.stats.support import close, sessions


def test_closed_forms_of_johari_et_al() -> None:
    c, t = SampleSummary.from_counts(400, 1000), SampleSummary.from_counts(450, 1000)
    tau2 = 1e-3
    r = sequential_test(c, t, kind="proportion", mixing_variance=tau2)
    v = 0.4 * 0.6 / 1000 + 0.45 * 0.55 / 1000
    lam = math.sqrt(v / (v + tau2)) * math.exp(tau2 * 0.05**2 / (2 * v * (v + tau2)))
    assert close(r.p_value, min(1.0, 1 / lam))
    half = math.sqrt(v * (v + tau2) / tau2 * (2 * math.log(20) + math.log((v + tau2) / v)))
    assert close(r.ci_low, 0.05 - half) and close(r.ci_high, 0.05 + half)
    assert close(r.fixed_horizon_p_value, compare_proportions(c, t).p_value)
    assert r.mixing_variance == tau2 and r.looks == 1


def test_default_mixing_variance_is_tuned_to_the_horizon() -> None:
    c, t = SampleSummary.from_counts(400, 1000), SampleSummary.from_counts(450, 1000)
    r = sequential_test(c, t, kind="proportion", horizon_units=2000)
    v = 0.4 * 0.6 / 1000 + 0.45 * 0.55 / 1000
    assert close(r.mixing_variance, optimal_mixing_ratio(0.05) * v)  # 2000 units now = the horizon
    # at the horizon the tuned width is (numerically) the narrowest over τ²
    widths = [
        sequential_test(c, t, kind="proportion", mixing_variance=r.mixing_variance * f) for f in (0.5, 2.0)
    ]
    assert all(w.ci_high - w.ci_low > r.ci_high - r.ci_low for w in widths)


@pytest.mark.parametrize("treatment_successes", [430, 445, 460, 480])
def test_p_value_below_alpha_exactly_when_the_sequence_excludes_zero(treatment_successes: int) -> None:
    r = sequential_test(
        SampleSummary.from_counts(400, 1000),
        SampleSummary.from_counts(treatment_successes, 1000),
        kind="proportion",
    )
    assert (r.p_value < 0.05) == (r.ci_low > 0 or r.ci_high < 0)
    assert r.p_value >= r.fixed_horizon_p_value  # always-valid costs something


def test_previous_look_gives_running_minimum_and_intersection() -> None:
    first = sequential_test(
        SampleSummary.from_counts(130, 300), SampleSummary.from_counts(165, 300), kind="proportion"
    )
    second = sequential_test(
        SampleSummary.from_counts(260, 600),
        SampleSummary.from_counts(270, 600),
        kind="proportion",
        previous=first,
    )
    alone = sequential_test(
        SampleSummary.from_counts(260, 600), SampleSummary.from_counts(270, 600), kind="proportion"
    )
    assert second.looks == 2
    assert second.p_value == min(first.p_value, alone.p_value)
    assert second.ci_low == max(first.ci_low, alone.ci_low) and second.ci_high == min(
        first.ci_high, alone.ci_high
    )


def test_peeking_every_100_units_keeps_false_positives_below_alpha() -> None:
    rng = np.random.default_rng(11)
    experiments, looks, batch = 300, 30, 100
    seq_hits = naive_hits = 0
    for _ in range(experiments):
        xc = np.cumsum(rng.binomial(1, 0.2, looks * batch))
        xt = np.cumsum(rng.binomial(1, 0.2, looks * batch))
        prev, seq, naive = None, False, False
        for k in range(1, looks + 1):
            n = k * batch
            c, t = SampleSummary.from_counts(int(xc[n - 1]), n), SampleSummary.from_counts(int(xt[n - 1]), n)
            prev = sequential_test(c, t, kind="proportion", previous=prev)
            seq |= prev.p_value < 0.05
            naive |= compare_proportions(c, t).p_value < 0.05
        seq_hits += seq
        naive_hits += naive
    # 300 experiments: SE of a 5% rate is 1.3pp; the naive rate with 30 looks is about 25%
    assert seq_hits / experiments <= 0.05
    assert naive_hits / experiments >= 0.15


def test_ratio_metric_and_relative_scale() -> None:
    rng = np.random.default_rng(12)
    ec, cc = sessions(rng, 4000, rate=0.10)
    et, ct = sessions(rng, 4000, rate=0.16)
    c, t = RatioSummary.from_values(ec, cc), RatioSummary.from_values(et, ct)
    r = sequential_test(c, t)
    assert r.p_value < 0.05 and r.ci_low > 0 and "ratio" in r.method
    rel = sequential_test(c, t, scale="relative", null_value=0.3)  # "errors up by more than 30%?"
    assert rel.relative_ci_low is not None and rel.relative_ci_low > 0
    assert (rel.p_value < 0.05) == (rel.relative_ci_low > 0.3 or (rel.relative_ci_high or 0) < 0.3)


def test_degenerate_and_invalid_inputs() -> None:
    same = SampleSummary.from_values([1.0] * 50)
    r = sequential_test(same, same)
    assert r.p_value == 1.0 and not r.reliable
    with pytest.raises(ValueError):
        sequential_test(same, same, mixing_variance=0.0)
    with pytest.raises(TypeError):
        sequential_test(same, RatioSummary.from_values([1.0], [1.0]))  # type: ignore[arg-type]


def test_p95_latency_guardrail_checked_after_every_batch() -> None:
    from routing_agent.stats import ClusteredValues, estimate_quantile

    rng = np.random.default_rng(13)
    experiments, looks, batch = 150, 10, 150
    hits = 0
    for _ in range(experiments):
        arms = []
        for _arm in range(2):
            calls = 1 + rng.poisson(3, looks * batch)
            units = np.repeat(np.arange(calls.size), calls)
            values = rng.lognormal(0, 0.3, calls.size)[units] * rng.lognormal(0, 0.5, units.size)
            arms.append((values, units, np.cumsum(calls)))
        prev = None
        for k in range(1, looks + 1):
            est = [
                estimate_quantile(
                    ClusteredValues(v[: ends[k * batch - 1]], u[: ends[k * batch - 1]]), 0.95
                ).arm()
                for v, u, ends in arms
            ]
            prev = sequential_test(est[0], est[1], previous=prev)
        hits += prev is not None and prev.p_value < 0.05
    assert hits / experiments <= 0.05
    # and it does see a 30% slower candidate
    fast = ClusteredValues.unclustered(rng.lognormal(0, 0.5, 3000))
    slow = ClusteredValues.unclustered(1.3 * rng.lognormal(0, 0.5, 3000))
    r = sequential_test(
        estimate_quantile(fast, 0.95).arm(), estimate_quantile(slow, 0.95).arm(), scale="relative"
    )
    assert r.p_value < 0.05 and r.relative_ci_low is not None and r.relative_ci_low > 0
