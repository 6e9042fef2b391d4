"""OS processes (as ``watch`` processes on several machines) change one experiment at the same moment.

One set of spawned processes per backend runs three races in turn: all roll back, all ship the same
winner, all queue a review. Each race must end with exactly one write.
"""

from __future__ import annotations

import multiprocessing as mp
import queue

import pytest

from routing_agent.config.spec import ExperimentStatus
from tests.control.conftest import Backend
from tests.control.race_worker import Race, apply_at_signal
from tests.support.processes import started

PROCESSES = 4
RACES: list[Race] = [
    ("raced-rollback", "rollback", None),
    ("raced-ship", "ship", "candidate"),
    ("raced-review", "review", "candidate"),
]


def _race(backend: Backend) -> dict[str, dict[str, tuple[str, object]]]:
    """Run every race with ``PROCESSES`` processes; returns experiment -> actor -> (outcome, detail)."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    actors = [f"watch@host{i}:{1000 + i}" for i in range(PROCESSES)]
    procs = [
        ctx.Process(target=apply_at_signal, args=(backend.spec, RACES, actor, barrier, out), daemon=True)
        for actor in actors
    ]
    results: dict[str, dict[str, tuple[str, object]]] = {}
    with started(procs):
        try:
            for _ in range(PROCESSES * len(RACES)):
                actor, experiment, outcome, detail = out.get(timeout=240)
                assert outcome != "crashed", f"{actor} crashed: {detail}"
                results.setdefault(experiment, {})[actor] = (outcome, detail)
        except queue.Empty:
            pytest.fail(f"racers did not report in time; got {results}")
    assert sorted(results) == sorted(r[0] for r in RACES)
    assert all(sorted(r) == sorted(actors) for r in results.values())
    return results


def _one_winner(outcomes: dict[str, tuple[str, object]]) -> str:
    applied = [actor for actor, (outcome, _) in outcomes.items() if outcome == "applied"]
    assert len(applied) == 1, outcomes
    assert all(o == "noop" for actor, (o, _) in outcomes.items() if actor not in applied), outcomes
    return applied[0]


def test_racing_processes_make_exactly_one_write(shared_backend: Backend) -> None:
    results = _race(shared_backend)
    for experiment, status in (
        ("raced-rollback", ExperimentStatus.ROLLED_BACK),
        ("raced-ship", ExperimentStatus.SHIPPED),
    ):
        winner = _one_winner(results[experiment])
        (entry,) = shared_backend.store.history(experiment)  # exactly one history entry
        assert entry.status is status and entry.actor == winner and entry.version == 1
        assert shared_backend.store.get_state(experiment) == entry
    creator = _one_winner(results["raced-review"])
    (item,) = shared_backend.reviews.items("raced-review")  # exactly one review item
    assert item.requested_by == creator
    assert {detail for _, detail in results["raced-review"].values()} == {item.id}  # all saw that one
