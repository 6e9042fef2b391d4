"""8 OS processes race on the same 2,000 units, each proposing its own variant: one variant per unit."""

from __future__ import annotations

import multiprocessing as mp
import queue

import pytest

from routing_agent.stores import Capability
from tests.stores.harness import Harness, requires
from tests.stores.race_worker import race
from tests.support.processes import started

FAMILY = "assignments"
PROCESSES = 8
UNITS = [f"session-{i:05d}" for i in range(2000)]


@requires(Capability.MULTI_PROCESS)
def test_eight_processes_racing_on_2000_units_agree_on_one_winner_each(harness: Harness) -> None:
    assert harness.spec is not None
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    variants = [f"v{i}" for i in range(PROCESSES)]
    procs = [
        ctx.Process(target=race, args=(harness.spec, "race", UNITS, v, barrier, out), daemon=True)
        for v in variants
    ]
    reports: dict[str, list[tuple[str, bool]]] = {}
    with started(procs):
        try:
            for _ in procs:
                variant, results = out.get(timeout=240)
                assert not isinstance(results, str), f"racer {variant} failed: {results}"
                reports[variant] = results
        except queue.Empty:
            pytest.fail(f"racers did not report in time; got {sorted(reports)}")
    assert sorted(reports) == variants
    assert all(p.exitcode == 0 for p in procs)

    store = harness.store
    winners: dict[str, str] = {}
    wins_per_variant = dict.fromkeys(variants, 0)
    for i, unit in enumerate(UNITS):
        seen = {reports[v][i][0] for v in variants}
        assert len(seen) == 1, f"{unit}: processes saw different variants {seen}"
        creators = [v for v in variants if reports[v][i][1]]
        assert len(creators) == 1, f"{unit}: created by {creators}"
        (winner,) = seen
        assert creators == [winner]  # the creator's own proposal is what everyone saw
        assert store.get("race", unit) == winner
        winners[unit] = winner
        wins_per_variant[winner] += 1
    counts = store.counts("race")
    assert sum(counts.values()) == len(UNITS)
    assert counts == {v: n for v, n in wins_per_variant.items() if n}
    assert len(counts) >= 2  # a real race: more than one process won units
