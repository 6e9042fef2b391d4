"""``tail_aggregates`` and ``time_span`` (quantile variances, arrival rate) on every backend."""

from __future__ import annotations

import math

import numpy as np

from routing_agent.stores.observations import Observation, UnitAggregate
from routing_agent.stores.observations.aggregates import bucket_index
from tests.stores.harness import Harness
from tests.stores.test_observations import EXP, dataset

FAMILY = "observations"


def _reference(
    rows: list[Observation], thresholds: dict[str, float], by_bucket: bool
) -> dict[str, UnitAggregate]:
    cells: dict[tuple[str, str], list[float]] = {}
    for o in rows:
        if o.metric != "latency_s" or o.variant not in thresholds:
            continue
        cell = cells.setdefault((o.variant, o.unit_id), [0.0, 0.0])
        if by_bucket:
            b, limit = bucket_index(o.value), bucket_index(thresholds[o.variant])
            below = b is None or (limit is not None and b <= limit)
        else:
            below = o.value <= thresholds[o.variant]
        cell[0] += below
        cell[1] += 1
    out: dict[str, list[tuple[float, float]]] = {}
    for (variant, _), (x, y) in cells.items():
        out.setdefault(variant, []).append((x, y))
    return {v: UnitAggregate.of(pairs) for v, pairs in out.items()}


def test_tail_aggregates_count_each_units_values_below_the_threshold(harness: Harness) -> None:
    rows = dataset(seed=5, units=60)
    harness.store.add(rows)
    thresholds = {"control": 1.1, "candidate": 2.0}  # "third" left out on purpose
    got = harness.store.tail_aggregates(EXP, "latency_s", thresholds)
    want = _reference(rows, thresholds, by_bucket=harness.name == "redis")
    assert set(got) == {"control", "candidate"}
    for variant, agg in want.items():
        assert got[variant].approx_equal(agg), (variant, got[variant], agg)
    # the tail share is a ratio over units: strictly between 0 and 1 here, and n_obs counts every value
    for agg in got.values():
        assert 0 < agg.sum_x < agg.sum_y == agg.n_obs
    assert harness.store.tail_aggregates(EXP, "latency_s", {}) == {}
    assert harness.store.tail_aggregates(EXP, "missing", {"control": 1.0}) == {}


def test_tail_aggregates_filter_by_agent_and_handle_zero_values(harness: Harness) -> None:
    harness.store.add(
        [
            Observation(EXP, "control", "u1", "m", 0.0, agent="a"),
            Observation(EXP, "control", "u1", "m", 3.0, agent="a"),
            Observation(EXP, "control", "u2", "m", 0.5, agent="b"),
        ]
    )
    agg = harness.store.tail_aggregates(EXP, "m", {"control": 1.0}, agent="a")["control"]
    assert (agg.n_units, agg.sum_x, agg.sum_y) == (1, 1.0, 2.0)
    everyone = harness.store.tail_aggregates(EXP, "m", {"control": 0.0})["control"]
    assert (everyone.n_units, everyone.sum_x, everyone.sum_y) == (2, 1.0, 3.0)  # only the zero value


def test_tail_share_brackets_the_histogram_quantile(harness: Harness) -> None:
    rng = np.random.default_rng(2)
    values = rng.lognormal(0.0, 0.5, 2000)
    harness.store.add([Observation(EXP, "v", f"u{i % 400}", "lat", float(x)) for i, x in enumerate(values)])
    q95 = harness.store.histogram(EXP, "lat")["v"].quantile(0.95)
    agg = harness.store.tail_aggregates(EXP, "lat", {"v": q95})["v"]
    assert math.isclose(agg.sum_x / agg.sum_y, 0.95, abs_tol=0.01)


def test_time_span(harness: Harness) -> None:
    assert harness.store.time_span(EXP) is None
    harness.store.add([Observation(EXP, "v", "u1", "m", 1.0, ts=1000.5)])
    harness.store.add(
        [Observation(EXP, "v", "u2", "m", 1.0, ts=2000.25), Observation(EXP, "w", "u3", "m", 1.0, ts=900.0)]
    )
    harness.store.add([Observation("other", "v", "u1", "m", 1.0, ts=5.0)])
    assert harness.store.time_span(EXP) == (900.0, 2000.25)
