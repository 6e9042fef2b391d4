"""Issue 12, item 10: values around 1e9 go through ``evaluate()`` with the same CI as the same data near 0.

The memory and SQLite stores hand the evaluator sums around a shift near the data, so shifting every value by
1e8 or 1e9 leaves the effect's CI unchanged (to 1e-6 relative) for a per-unit mean, a per-unit total and a
per-observation (delta-method) metric. A backend that keeps raw running sums cannot: there the precision
guard reports the comparison unreliable, names the metric and the cause, and traffic does not move.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation import Evaluation, evaluate
from routing_agent.evaluation.metrics import PRECISION_LIMIT, MetricData, variance_rounding
from routing_agent.stats import RatioSummary
from routing_agent.stores.observations import MemoryObservationStore, Observation, open_observation_store
from routing_agent.stores.observations.aggregates import UnitAggregate
from routing_agent.stores.observations.base import ObservationStore, Segment

EXP = "exp"
SHIFTS = (1e8, 1e9)


def _spec(metric: str, **extra: Any) -> ExperimentSpec:
    primary = {"name": metric, "kind": "continuous", "mde": 0.1, "baseline_sd": 1.0, **extra}
    return ExperimentSpec.model_validate(
        {
            "id": EXP,
            "variants": [
                {"name": "control", "model": "simulated:strong-expensive", "control": True},
                {"name": "candidate", "model": "simulated:fast-cheap"},
            ],
            "primary_metric": primary,
        }
    )


def _rows(
    metric: str, shift: float, *, calls: tuple[int, int], seed: int, n: int = 3000
) -> list[Observation]:
    """Values ~ N(10 + effect, 1) + ``shift``; ``calls`` = (min, max) observations per unit."""
    rng = np.random.default_rng(seed)
    out: list[Observation] = []
    for variant, effect in (("control", 0.0), ("candidate", 0.08)):
        for i in range(n):
            unit_effect = rng.normal(0.0, 0.5)
            for c in range(int(rng.integers(calls[0], calls[1] + 1))):
                value = 10.0 + effect + unit_effect + rng.normal(0.0, 1.0)
                unit, ts = f"{variant}-{i}", 1e6 + i + c / 10
                out.append(Observation(EXP, variant, unit, metric, shift + value, ts=ts))
    return out


@pytest.fixture(params=["memory", "sqlite"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    made: list[ObservationStore] = []

    def make(rows: list[Observation]) -> ObservationStore:
        target = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/obs-{len(made)}.db"
        store = open_observation_store(target)
        store.add(rows)
        made.append(store)
        return store

    yield make
    for store in made:
        close = getattr(store, "close", None)
        if close is not None:
            close()


def _primary(ev: Evaluation) -> Any:
    (comparison,) = ev.primary
    assert comparison.result is not None
    return comparison


# shape name, metric, observations per unit (min, max)
# (a per-unit total moves by shift × its observations, so every unit has three: the same data, shifted)
CASES = [
    ("per_unit", "score", (1, 1)),
    ("per_unit_total", "cost_usd", (3, 3)),
    ("per_observation", "latency_s", (1, 4)),
]


@pytest.mark.parametrize(("shape", "metric", "calls"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("shift", SHIFTS, ids=["1e8", "1e9"])
def test_shifted_data_give_the_same_ci_through_evaluate(
    store_factory: Any, shape: str, metric: str, calls: tuple[int, int], shift: float
) -> None:
    spec = _spec(metric)
    base = _primary(evaluate(spec, observations=store_factory(_rows(metric, 0.0, calls=calls, seed=7))))
    big = _primary(evaluate(spec, observations=store_factory(_rows(metric, shift, calls=calls, seed=7))))
    assert base.shape == big.shape == shape
    r0, r1 = base.result, big.result
    width = r0.ci_high - r0.ci_low
    assert width > 0 and r0.reliable and r1.reliable, (r0.warnings, r1.warnings)
    # 1e-6 of the CI's width, plus the float64 spacing of the arm means themselves (a mean near 3e9 is held
    # to 4.8e-7: no summary can place it closer)
    floor = 4.0 * float(np.spacing(max(abs(r1.control_mean), abs(r1.treatment_mean))))
    tol = 1e-6 * width + floor
    assert abs(r1.std_error - r0.std_error) <= 1e-6 * r0.std_error, (r0.std_error, r1.std_error)
    assert abs(r1.ci_low - r0.ci_low) <= tol and abs(r1.ci_high - r0.ci_high) <= tol, (r0, r1)
    assert abs(r1.absolute_effect - r0.absolute_effect) <= tol
    assert abs(r1.p_value - r0.p_value) <= 1e-5 * max(r0.p_value, 1e-12) + 1e-9
    assert big.verdict == base.verdict


class RawSumStore(MemoryObservationStore):
    """A memory store whose aggregates are raw running sums (shift 0), as a backend with running totals."""

    def unit_aggregates(
        self,
        experiment: str,
        metric: str,
        *,
        denominator: str | None = None,
        agent: str | None = None,
        segment: Segment | None = None,
    ) -> dict[str, UnitAggregate]:
        shifted = super().unit_aggregates(
            experiment, metric, denominator=denominator, agent=agent, segment=segment
        )
        out: dict[str, UnitAggregate] = {}
        for variant, agg in shifted.items():
            sums = [0.0] * 5
            for unit in self.unit_values(experiment, metric, agent=agent, segment=segment):
                if unit.variant != variant:
                    continue
                x, y = unit.value, float(unit.n_obs)
                for k, v in enumerate((x, x * x, y, y * y, x * y)):
                    sums[k] += v
            out[variant] = UnitAggregate(agg.n_units, agg.n_obs, *sums)
        return out


def _raw_run(metric: str, shift: float, calls: tuple[int, int]) -> Evaluation:
    store = RawSumStore()
    store.add(_rows(metric, shift, calls=calls, seed=11))
    return evaluate(_spec(metric), observations=store)


@pytest.mark.parametrize(("shape", "metric", "calls"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("shift", SHIFTS, ids=["1e8", "1e9"])
def test_the_guard_reports_unshifted_sums_at_large_values_unreliable_and_traffic_stays(
    shape: str, metric: str, calls: tuple[int, int], shift: float
) -> None:
    ev = _raw_run(metric, shift, calls)
    comparison = _primary(ev)
    assert comparison.shape == shape
    assert not comparison.result.reliable
    assert comparison.verdict in ("unreliable", "pending")
    text = " ".join(comparison.result.warnings)
    assert metric in text and "rounding" in text and "unshifted sums" in text
    assert ev.decision.winner in (None, "control")
    assert ev.decision.kind.value != "ship"


@pytest.mark.parametrize(("shape", "metric", "calls"), CASES, ids=[c[0] for c in CASES])
def test_the_guard_stays_silent_for_unshifted_sums_at_ordinary_values(
    shape: str, metric: str, calls: tuple[int, int]
) -> None:
    comparison = _primary(_raw_run(metric, 0.0, calls))
    assert comparison.shape == shape
    assert comparison.result.reliable, comparison.result.warnings


@pytest.mark.parametrize(
    ("n", "total", "squares", "trusted"),
    [
        (4000, 2000.0, 2000.0, True),  # 0/1 outcomes: exact integer sums
        (3, 3e9, 3e18 + 2.0, False),  # raw sums at 1e9 with a spread of about 1
        (3, 0.1, 2.0, True),  # sums around the mean
        (3, 0.3, 0.03, False),  # cancels to zero from non-integer sums
    ],
)
def test_variance_rounding(n: int, total: float, squares: float, trusted: bool) -> None:
    assert (variance_rounding(n, total, squares) <= PRECISION_LIMIT) is trusted


def test_unit_aggregate_merges_two_shifts_exactly() -> None:
    rng = np.random.default_rng(3)
    values = 1e9 + rng.normal(0.0, 1.0, 400)
    pairs = [(float(v), 1.0) for v in values]
    whole = UnitAggregate.of(pairs)
    first, rest = UnitAggregate.of(pairs[:150]), UnitAggregate.of(pairs[150:])
    merged = first + rest
    assert merged.shift_x == first.shift_x != whole.shift_x
    assert merged.variance == pytest.approx(float(np.var(values, ddof=1)), rel=1e-9)
    assert whole.approx_equal(merged) and merged.approx_equal(whole)
    assert merged.total_x == pytest.approx(float(np.sum(values)), rel=1e-15)
    assert (UnitAggregate() + merged).shift_x == merged.shift_x  # an empty aggregate takes the other's shift


def test_unit_aggregate_keeps_the_ratio_residual_of_large_per_call_values() -> None:
    """Per-observation values near 1e9, 1–4 per unit: Σx/Σy and Var(x − R·y) survive a merge."""
    rng = np.random.default_rng(4)
    calls = rng.integers(1, 5, 600).astype(float)
    x = np.array([float(np.sum(1e9 + rng.normal(0.0, 1.0, int(k)))) for k in calls])
    pairs = list(zip(x.tolist(), calls.tolist(), strict=True))
    merged = UnitAggregate.of(pairs[:200]) + UnitAggregate.of(pairs[200:])
    summary = MetricData("latency_s", "per_observation", {"a": merged}).summary("a")
    assert isinstance(summary, RatioSummary)
    reference = RatioSummary.from_values(x - 1e9 * calls, calls)  # the same data near 0
    assert summary.variance_of_ratio == pytest.approx(reference.variance_of_ratio, rel=1e-6)
    assert summary.ratio - 1e9 == pytest.approx(reference.ratio, abs=1e-6)
    assert MetricData("latency_s", "per_observation", {"a": merged}).precision_issue("a") is None


def _mapping(store: ObservationStore) -> Mapping[str, UnitAggregate]:
    return store.unit_aggregates(EXP, "score")


def test_sqlite_and_memory_agree_on_shifted_aggregates(tmp_path: Path) -> None:
    rows = _rows("score", 1e9, calls=(1, 1), seed=5, n=200)
    memory, sqlite = MemoryObservationStore(), open_observation_store(f"sqlite:///{tmp_path}/a.db")
    memory.add(rows)
    sqlite.add(rows)
    a, b = _mapping(memory), _mapping(sqlite)
    assert set(a) == set(b) == {"control", "candidate"}
    for variant in a:
        assert abs(a[variant].shift_x - 1e9) < 20 and abs(b[variant].shift_x - 1e9) < 20
        assert a[variant].approx_equal(b[variant]), (a[variant], b[variant])
        assert a[variant].variance == pytest.approx(b[variant].variance, rel=1e-9)
