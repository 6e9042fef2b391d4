"""Monte Carlo: checking a guardrail at every look does not inflate false stops; a real regression is caught.

Ten looks per simulated experiment (100, 200, …, 1,000 units per arm), the evaluator's own guardrail code
chained across looks as ``watch`` chains it. The store is a small in-test double that sums numpy arrays per
unit (the protocol's ``unit_aggregates``), so hundreds of experiments run in seconds.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.guardrails import check_guardrails
from routing_agent.stores.observations.aggregates import UnitAggregate
from tests.evaluation.support import make_spec

LOOKS = range(100, 1001, 100)
REPS = 400


class ArrayStore:
    """Per-unit totals held as arrays; answers ``unit_aggregates`` over the first ``n`` units of each arm."""

    def __init__(self, values: dict[str, np.ndarray]) -> None:
        self.values = values
        self.n = 0

    def unit_aggregates(self, experiment: str, metric: str, **_: object) -> dict[str, UnitAggregate]:
        out = {}
        for variant, v in self.values.items():
            x = v[: self.n]
            out[variant] = UnitAggregate(
                x.size, x.size, float(x.sum()), float(x @ x), float(x.size), float(x.size), float(x.sum())
            )
        return out


def spec_with_bound(bound: float) -> ExperimentSpec:
    return make_spec(guardrails=[{"metric": "cost_usd", "max_ratio_to_control": bound, "min_sample": 100}])


def run(ratio: float, bound: float, seed: int) -> tuple[float, float]:
    """Share of experiments stopped at any look: by the evaluator, and by a naive z test."""
    rng = np.random.default_rng(seed)
    spec = spec_with_bound(bound)
    stopped = naive = 0
    for _ in range(REPS):
        store = ArrayStore(
            {
                "control": rng.lognormal(0.0, 0.6, LOOKS[-1]),
                "candidate": ratio * rng.lognormal(0.0, 0.6, LOOKS[-1]),
            }
        )
        previous: dict = {}  # type: ignore[type-arg]
        hit = hit_naive = False
        for n in LOOKS:
            store.n = n
            (check,) = check_guardrails(
                spec, store, control="control", arms=["candidate"], alpha=0.05, horizon_units=2000,  # type: ignore[arg-type]
                previous=previous,
            )  # fmt: skip
            assert check.test is not None
            previous = {check.key: check.test}
            hit = hit or check.result.breached
            c, t = store.values["control"][:n], store.values["candidate"][:n]
            z = (t.mean() - bound * c.mean()) / np.sqrt(t.var(ddof=1) / n + bound**2 * c.var(ddof=1) / n)
            hit_naive = hit_naive or z > stats.norm.ppf(0.95)
        stopped += hit
        naive += hit_naive
    return stopped / REPS, naive / REPS


def test_false_stops_at_the_bound_stay_below_alpha_across_ten_looks() -> None:
    """True ratio exactly at the bound (the hardest null): P(any breach over 10 looks) ≤ α = 0.05."""
    evaluator, naive = run(ratio=1.3, bound=1.3, seed=1)
    assert evaluator <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / REPS), evaluator
    assert naive > 0.12, naive  # peeking with a fixed-horizon one-sided z test stops far more often


def test_a_doubled_cost_is_caught_by_the_last_look() -> None:
    evaluator, _ = run(ratio=2.0, bound=1.3, seed=2)
    assert evaluator > 0.95, evaluator


def test_no_false_stop_when_the_candidate_is_as_cheap() -> None:
    evaluator, _ = run(ratio=1.0, bound=1.3, seed=3)
    assert evaluator == 0.0


class MetricArrays(ArrayStore):
    """One ``ArrayStore`` per metric."""

    def __init__(self, values: dict[str, dict[str, np.ndarray]]) -> None:
        self.by_metric = values
        self.n = 0

    def unit_aggregates(self, experiment: str, metric: str, **kw: object) -> dict[str, UnitAggregate]:
        self.values = self.by_metric[metric]
        return super().unit_aggregates(experiment, metric, **kw)


def family_stops(family: str, seed: int, metrics: int = 4) -> float:
    """``metrics`` independent guardrails, each truly exactly at its bound: P(any breach over 10 looks)."""
    rng = np.random.default_rng(seed)
    names = [f"m{i}" for i in range(metrics)]
    spec = make_spec(
        guardrails=[{"metric": m, "max_ratio_to_control": 1.3, "min_sample": 100} for m in names]
    )
    stopped = 0
    for _ in range(REPS):
        store = MetricArrays(
            {
                m: {
                    "control": rng.lognormal(0.0, 0.6, LOOKS[-1]),
                    "candidate": 1.3 * rng.lognormal(0.0, 0.6, LOOKS[-1]),
                }
                for m in names
            }
        )
        previous: dict = {}  # type: ignore[type-arg]
        hit = False
        for n in LOOKS:
            store.n = n
            checks = check_guardrails(
                spec, store, control="control", arms=["candidate"], alpha=0.05, horizon_units=2000,  # type: ignore[arg-type]
                previous=previous, family=family,  # type: ignore[arg-type]
            )  # fmt: skip
            previous = {c.key: c.test for c in checks if c.test is not None}
            hit = hit or any(c.result.breached for c in checks)
        stopped += hit
    return stopped / REPS


def test_several_guardrails_keep_the_family_wise_false_stop_rate_below_alpha() -> None:
    """Issue 12 item 8: four guardrails at their bounds. Bonferroni keeps P(any false rollback) ≤ 0.05."""
    bonferroni = family_stops("bonferroni", seed=4)
    assert bonferroni <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / REPS), bonferroni
    per_bound = family_stops("per_bound", seed=4)
    assert per_bound >= bonferroni, (per_bound, bonferroni)
