"""Every observation store answers the evaluator's queries identically: memory, SQLite and a real Redis."""

from __future__ import annotations

import math
import random
import threading

import numpy as np
import pytest

from routing_agent.errors import StoreUnavailable
from routing_agent.stores import Capability
from routing_agent.stores.observations import (
    Observation,
    ObservationStore,
    UnitAggregate,
    open_observation_store,
)
from routing_agent.stores.observations.memory import MemoryObservationStore, aggregate_rows
from tests.stores.harness import BACKENDS, Harness, requires

FAMILY = "observations"
EXP = "exp-1"


def dataset(seed: int = 7, units: int = 40, experiment: str = EXP) -> list[Observation]:
    """Several variants, agents, segments and metrics; every unit has calls and latency, some have cost."""
    rng = random.Random(seed)
    rows: list[Observation] = []
    for u in range(units):
        variant = ("control", "candidate", "third")[u % 3]
        tier = "gold" if u % 4 == 0 else "free"
        for call in range(rng.randint(1, 5)):
            agent = rng.choice(["triage", "writer"])
            seg = {"tier": tier}
            base = dict(experiment=experiment, variant=variant, unit_id=f"u:{u}", agent=agent, segments=seg)
            rows.append(Observation(metric="calls", value=1.0, id=f"{experiment}-{u}-{call}-calls", **base))
            latency = rng.lognormvariate(0.0, 0.5)
            rows.append(
                Observation(metric="latency_s", value=latency, id=f"{experiment}-{u}-{call}-lat", **base)
            )
            if rng.random() < 0.7:
                rows.append(Observation(metric="cost_usd", value=rng.random() / 100, **base))
    return rows


def test_declared_capabilities(harness: Harness) -> None:
    assert isinstance(harness.store, ObservationStore)
    assert harness.store.capabilities == BACKENDS[harness.name].capabilities[FAMILY] == harness.capabilities


def test_add_is_idempotent_by_id(harness: Harness) -> None:
    rows = [
        Observation(EXP, "control", "u1", "calls", 1.0, id="a"),
        Observation(EXP, "control", "u1", "calls", 1.0, id="b"),
    ]
    assert harness.store.add(rows) == 2
    assert harness.store.add(rows) == 0
    assert harness.store.add([Observation(EXP, "control", "u1", "calls", 1.0)]) == 1  # no id: always new
    agg = harness.store.unit_aggregates(EXP, "calls")
    assert agg == {"control": UnitAggregate(1, 3, 3.0, 9.0, 3.0, 9.0, 9.0)}


def test_golden_numbers(harness: Harness) -> None:
    """Two units in control (x = 3 with 2 obs, x = 5 with 1 obs) and one in candidate, by hand."""
    harness.store.add(
        [
            Observation(EXP, "control", "a", "m", 1.0),
            Observation(EXP, "control", "a", "m", 2.0),
            Observation(EXP, "control", "b", "m", 5.0),
            Observation(EXP, "candidate", "c", "m", 4.0),
            Observation(EXP, "control", "a", "d", 10.0),
        ]
    )
    agg = harness.store.unit_aggregates(EXP, "m")
    assert agg["control"] == UnitAggregate(2, 3, 8.0, 34.0, 3.0, 5.0, 11.0)
    assert agg["candidate"] == UnitAggregate(1, 1, 4.0, 16.0, 1.0, 1.0, 4.0)
    assert agg["control"].mean == 4.0 and agg["control"].variance == 2.0
    paired = harness.store.unit_aggregates(EXP, "m", denominator="d")
    assert paired["control"] == UnitAggregate(2, 3, 8.0, 34.0, 10.0, 100.0, 30.0)


@pytest.mark.parametrize(
    ("metric", "denominator", "agent", "segment"),
    [
        ("latency_s", None, None, None),
        ("latency_s", "calls", None, None),
        ("cost_usd", "calls", None, None),
        ("latency_s", None, "writer", None),
        ("cost_usd", "calls", None, ("tier", "gold")),
        ("latency_s", "calls", "triage", ("tier", "free")),
        ("missing", None, None, None),
    ],
)
def test_unit_aggregates_match_the_reference(
    harness: Harness, metric: str, denominator: str | None, agent: str | None, segment: tuple[str, str] | None
) -> None:
    rows = dataset()
    harness.store.add(rows)
    got = harness.store.unit_aggregates(EXP, metric, denominator=denominator, agent=agent, segment=segment)
    want = aggregate_rows(rows, metric, denominator=denominator, agent=agent, segment=segment)
    assert set(got) == set(want)
    for variant, agg in want.items():
        assert got[variant].approx_equal(agg), (variant, got[variant], agg)


def test_unit_aggregates_match_numpy(harness: Harness) -> None:
    rows = dataset(seed=3)
    harness.store.add(rows)
    for variant, agg in harness.store.unit_aggregates(EXP, "latency_s").items():
        per_unit: dict[str, float] = {}
        for o in rows:
            if o.variant == variant and o.metric == "latency_s":
                per_unit[o.unit_id] = per_unit.get(o.unit_id, 0.0) + o.value
        values = np.array(list(per_unit.values()))
        assert agg.n_units == len(values)
        assert math.isclose(agg.mean, values.mean(), rel_tol=1e-12)
        assert math.isclose(agg.variance, values.var(ddof=1), rel_tol=1e-9)


def test_unit_values(harness: Harness) -> None:
    rows = dataset()
    harness.store.add(rows)
    got = sorted(harness.store.unit_values(EXP, "latency_s", agent="writer"))
    want: dict[tuple[str, str], list[float]] = {}
    for o in rows:
        if o.metric == "latency_s" and o.agent == "writer":
            cell = want.setdefault((o.variant, o.unit_id), [0.0, 0])
            cell[0] += o.value
            cell[1] += 1
    assert [(v, u, n) for v, u, _, n in got] == sorted((v, u, int(c[1])) for (v, u), c in want.items())
    for v, u, value, _ in got:
        assert math.isclose(value, want[(v, u)][0], rel_tol=1e-12)


def test_histogram_quantiles_within_one_percent(harness: Harness) -> None:
    rng = np.random.default_rng(1)
    values = rng.lognormal(0.0, 0.6, 600)
    harness.store.add(
        [
            Observation(EXP, "control", f"u{i % 50}", "ttft_s", float(v), agent="a")
            for i, v in enumerate(values)
        ]
    )
    hist = harness.store.histogram(EXP, "ttft_s")["control"]
    assert hist.count == 600
    assert math.isclose(hist.mean, values.mean(), rel_tol=1e-9)
    assert hist.min == values.min() and hist.max == values.max()
    for q in (0.5, 0.9, 0.95, 0.99):
        exact = float(np.quantile(values, q, method="lower"))
        assert abs(hist.quantile(q) - exact) <= 0.0201 * exact
    assert harness.store.histogram(EXP, "ttft_s", agent="other") == {}


def test_counts_metrics_segments(harness: Harness) -> None:
    rows = dataset()
    harness.store.add(rows)
    units = {v: len({o.unit_id for o in rows if o.variant == v}) for v in ("control", "candidate", "third")}
    assert harness.store.counts_by_variant(EXP) == units
    cost_units = {
        v: len({o.unit_id for o in rows if o.variant == v and o.metric == "cost_usd"}) for v in units
    }
    assert harness.store.counts_by_variant(EXP, "cost_usd") == {k: n for k, n in cost_units.items() if n}
    writer_units = {
        v: len({o.unit_id for o in rows if o.variant == v and o.agent == "writer"}) for v in units
    }
    assert harness.store.counts_by_variant(EXP, agent="writer") == writer_units
    assert harness.store.metrics(EXP) == {"calls", "latency_s", "cost_usd"}
    assert harness.store.segments(EXP) == {"tier": {"gold", "free"}}


@pytest.mark.parametrize("other", ["exp-1:x", "{exp-1}", "exp-1 ", "é{x}:y"])
def test_experiments_are_isolated_even_with_tricky_ids(harness: Harness, other: str) -> None:
    harness.store.add(dataset(seed=1))
    harness.store.add(dataset(seed=2, units=9, experiment=other))
    assert sum(harness.store.counts_by_variant(other).values()) == 9
    assert sum(harness.store.counts_by_variant(EXP).values()) == 40
    unit = "a:b}{c\u00e9\n"
    harness.store.add([Observation(other, "v", unit, "m", 2.5, agent="x:y", segments={"k:1": "v}2"})])
    assert list(harness.store.unit_values(other, "m", agent="x:y", segment=("k:1", "v}2"))) == [
        ("v", unit, 2.5, 1)
    ]


def test_threads_add_exactly(harness: Harness) -> None:
    """Concurrent writers (each its own handle where the backend has several) lose no update."""
    handles = [harness.reopen() if harness.reopen else harness.store for _ in range(4)]

    def write(store: ObservationStore, t: int) -> None:
        for i in range(50):
            store.add([Observation(EXP, "control", f"u{i % 10}", "m", 1.0 + t, id=f"{t}-{i}")])

    threads = [threading.Thread(target=write, args=(h, t)) for t, h in enumerate(handles)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    agg = harness.store.unit_aggregates(EXP, "m")["control"]
    # each unit gets 5 obs from each of 4 threads: x_u = 5 * (1 + 2 + 3 + 4) = 50, y_u = 20
    assert agg == UnitAggregate(10, 200, 500.0, 25000.0, 200.0, 4000.0, 10000.0)


def test_open_by_url_sees_the_same_data(harness: Harness) -> None:
    if harness.url is None:
        assert harness.reopen is None
        return
    harness.store.add(dataset(units=6))
    other = open_observation_store(harness.url)
    try:
        assert other.counts_by_variant(EXP) == harness.store.counts_by_variant(EXP)
    finally:
        other.close()


@requires(Capability.RAW_ROWS)
def test_raw_rows_round_trip(harness: Harness) -> None:
    rows = dataset(units=5)
    harness.store.add(rows)
    assert list(harness.store.observations(EXP)) == rows
    assert [o.metric for o in harness.store.observations(EXP, "calls")] == ["calls"] * sum(
        o.metric == "calls" for o in rows
    )


def test_closed_store_raises_store_unavailable(harness: Harness) -> None:
    if harness.name == "memory":
        return
    harness.store.close()
    with pytest.raises(StoreUnavailable):
        harness.store.add([Observation(EXP, "control", "u", "m", 1.0)])


def test_unit_values_are_consistent_while_writers_run(harness: Harness) -> None:
    """Each unit's value and count come from the same write: with every value 1.0, value == count."""
    writer_store = harness.reopen() if harness.reopen else harness.store
    stop = threading.Event()

    def write() -> None:
        i = 0
        while not stop.is_set() and i < 3000:
            writer_store.add([Observation(EXP, "control", f"u{i % 40}", "m", 1.0, id=f"w{i}")])
            i += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        for _ in range(20):
            for uv in harness.store.unit_values(EXP, "m"):
                assert uv.n_obs >= 1 and uv.value == float(uv.n_obs), uv
    finally:
        stop.set()
        thread.join()


def test_units_in_two_variants_and_calls_with_and_without_an_agent(harness: Harness) -> None:
    """Per-unit state is kept per variant × agent (a unit re-randomised after a loss, graph-level
    observations without an agent beside per-agent ones): every read agrees with the in-memory reference."""
    rng = random.Random(5)
    rows: list[Observation] = []
    for u in range(30):
        for k in range(rng.randint(1, 6)):
            variant = ("control", "candidate")[(u + (k if u % 3 == 0 else 0)) % 2]  # every 3rd unit moves
            agent = (None, "a", "b")[rng.randrange(3)]
            value = rng.choice([0.0, -1.5, 0.5, 2.0, 8.0])
            seg = {"tier": "gold"} if u % 2 else {}
            rows.append(
                Observation(EXP, variant, f"u{u}", "m", value, agent=agent, segments=seg, id=f"{u}-{k}")
            )
            rows.append(Observation(EXP, variant, f"u{u}", "n", 1.0, agent=agent, id=f"{u}-{k}-n"))
    harness.store.add(rows)
    reference = MemoryObservationStore()
    reference.add(rows)
    for agent in (None, "a", "b", "nobody"):
        for denominator in (None, "n"):
            for segment in (None, ("tier", "gold")):
                got = harness.store.unit_aggregates(
                    EXP, "m", denominator=denominator, agent=agent, segment=segment
                )
                want = aggregate_rows(rows, "m", denominator=denominator, agent=agent, segment=segment)
                assert set(got) == set(want), (agent, denominator, segment)
                for variant, agg in want.items():
                    assert got[variant].approx_equal(agg), (agent, denominator, segment, variant)
        assert sorted(harness.store.unit_values(EXP, "m", agent=agent)) == sorted(
            reference.unit_values(EXP, "m", agent=agent)
        )
        thresholds = {"control": 1.0, "candidate": 4.0}  # between the values' buckets
        got_tails = harness.store.tail_aggregates(EXP, "m", thresholds, agent=agent)
        want_tails = reference.tail_aggregates(EXP, "m", thresholds, agent=agent)
        assert set(got_tails) == set(want_tails)
        for variant, agg in want_tails.items():
            assert got_tails[variant].approx_equal(agg), (agent, variant)
        assert harness.store.counts_by_variant(EXP, agent=agent) == reference.counts_by_variant(
            EXP, agent=agent
        )
