"""A ratio guardrail's interval agrees with its verdict: never "CI [0, 42]" beside "p < 0.001 BREACHED".

Heavy-tailed data (lognormal, σ = 1.2) make a separate delta-method interval of a ratio very wide while the
breach test is conclusive. The interval shown is the tested contrast's, so across effects and statistics:
breached ⇔ the interval lies beyond the bound.
"""

from __future__ import annotations

import numpy as np
import pytest

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation import evaluate
from routing_agent.stores.observations.memory import MemoryObservationStore
from routing_agent.stores.observations.observation import Observation


def _spec(statistic: str) -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        {
            "id": "g",
            "variants": [
                {"name": "control", "model": "echo:a", "control": True},
                {"name": "candidate", "model": "echo:b"},
            ],
            "guardrails": [
                {"metric": "cost_usd", "statistic": statistic, "max_ratio_to_control": 1.3, "min_sample": 50}
            ],
        }
    )


@pytest.mark.parametrize("statistic", ["mean", "p95"])
@pytest.mark.parametrize("factor", [0.8, 1.0, 1.3, 1.6, 3.0, 8.0])
def test_interval_and_verdict_agree(statistic: str, factor: float) -> None:
    rng = np.random.default_rng(int(factor * 100) + len(statistic))
    store = MemoryObservationStore()
    for arm, scale in (("control", 1.0), ("candidate", factor)):
        values = rng.lognormal(0.0, 1.2, size=600) * scale
        store.add([Observation("g", arm, f"{arm}{i}", "cost_usd", float(v)) for i, v in enumerate(values)])
    (g,) = evaluate(_spec(statistic), observations=store).decision.guardrails
    assert g.ci_low is not None and g.ci_high is not None and g.ci_low <= g.ci_high
    if g.reliable:
        assert g.breached == (g.ci_low > g.limit), g
        if g.breached and g.p_value is not None and g.p_value < 0.001:
            assert g.ci_low > g.limit and g.ci_high < 10 * max(g.ratio or 1.0, 1.0), g
    if factor >= 8.0:
        assert g.breached


@pytest.mark.parametrize("seed", range(8))
def test_a_breach_never_shows_an_interval_that_contains_the_bound(seed: int) -> None:
    """Zero-inflated control costs (most calls cached): the case that showed "CI [0.15, 4.99]" beside a
    breach of ≤ 1.3× control before the interval came from the breach test itself."""
    rng = np.random.default_rng(seed)
    n = 300
    control = np.where(rng.random(n) < 0.2, rng.lognormal(0.0, 1.5, n), 0.0) + 0.01
    candidate = control.mean() * 2.5 * rng.lognormal(0.0, 0.3, n)
    store = MemoryObservationStore()
    store.add([Observation("g", "control", f"c{i}", "cost_usd", float(v)) for i, v in enumerate(control)])
    store.add([Observation("g", "candidate", f"t{i}", "cost_usd", float(v)) for i, v in enumerate(candidate)])
    (g,) = evaluate(_spec("mean"), observations=store).decision.guardrails
    assert g.ci_low is not None and g.ci_high is not None
    assert g.breached == (g.ci_low > g.limit), g
    assert g.ci_low <= (g.ratio or 0.0) <= g.ci_high + 1e-9, g
