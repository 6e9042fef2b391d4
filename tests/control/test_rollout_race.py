"""Several OS processes (as several ``watch`` processes on several machines) change the same state at once."""

from __future__ import annotations

import multiprocessing as mp
import queue

import pytest

from routing_agent.config.spec import ExperimentStatus
from tests.control.conftest import Backend
from tests.control.race_worker import Race, apply_at_signal

PROCESSES = 5
RACES: list[Race] = [("raced-rollback", "rollback", None), ("raced-ship", "ship", "candidate")]


def _race(backend: Backend) -> dict[str, dict[str, tuple[str, object]]]:
    """Run every race in ``RACES`` with ``PROCESSES`` processes; returns experiment -> actor -> outcome."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    actors = [f"watch@host{i}:{1000 + i}" for i in range(PROCESSES)]
    procs = [
        ctx.Process(target=apply_at_signal, args=(backend.spec, RACES, actor, barrier, out), daemon=True)
        for actor in actors
    ]
    for p in procs:
        p.start()
    results: dict[str, dict[str, tuple[str, object]]] = {}
    try:
        for _ in range(PROCESSES * len(RACES)):
            actor, experiment, outcome, detail = out.get(timeout=240)
            assert outcome != "crashed", f"{actor} crashed: {detail}"
            results.setdefault(experiment, {})[actor] = (outcome, detail)
    except queue.Empty:
        pytest.fail(f"racers did not report in time; got {results}")
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    assert all(sorted(r) == sorted(actors) for r in results.values())
    return results


def test_racing_processes_write_exactly_one_history_entry(shared_backend: Backend) -> None:
    results = _race(shared_backend)
    for experiment, status in (
        ("raced-rollback", ExperimentStatus.ROLLED_BACK),
        ("raced-ship", ExperimentStatus.SHIPPED),
    ):
        outcomes = results[experiment]
        applied = [actor for actor, (outcome, _) in outcomes.items() if outcome == "applied"]
        assert len(applied) == 1, outcomes
        assert all(o == "noop" for actor, (o, _) in outcomes.items() if actor not in applied), outcomes
        (entry,) = shared_backend.store.history(experiment)
        assert entry.status is status and entry.actor == applied[0] and entry.version == 1
        assert shared_backend.store.get_state(experiment) == entry
