"""Run many sessions of a workflow concurrently and collect their outcomes.

Sessions are drawn from the workflow's dataset with a seeded RNG (``session i`` always gets the same item
for the same seed), run on a thread pool — LLM calls sleep their time-scaled latency, so threads overlap
them like a real service overlaps network waits — and handed, as they finish, to the observers (the
outcome writer, a progress bar, scorers added by other steps).
"""

from __future__ import annotations

__all__ = ["RunSummary", "SessionPlan", "SessionResult", "plan_sessions", "run_sessions"]

import logging
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig

from routing_agent.graph.state import ROUTING_KEY

logger = logging.getLogger("routing_agent.simulation")


@dataclass(frozen=True)
class SessionPlan:
    """One session to run: its index, id and dataset item."""

    index: int
    session_id: str
    item: Mapping[str, Any]


@dataclass(frozen=True)
class SessionResult:
    """What one session produced: assignments, outcome metrics, wall time, and a crash if any."""

    index: int
    session_id: str
    item_id: str
    assignments: dict[str, dict[str, Any]]
    outcome: dict[str, Any]
    duration_s: float
    error: str | None = None

    def to_json(self, workflow: str) -> dict[str, Any]:
        """A JSON-ready row for ``outcomes.jsonl``."""
        return {
            "workflow": workflow,
            "session_id": self.session_id,
            "item_id": self.item_id,
            "assignments": self.assignments,
            "outcome": self.outcome,
            "duration_s": round(self.duration_s, 6),
            "error": self.error,
        }


@dataclass
class RunSummary:
    """Totals of a run: variant counts per experiment and mean numeric outcomes per (experiment, variant)."""

    sessions: int = 0
    seconds: float = 0.0
    crashed: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    sums: dict[tuple[str, str], dict[str, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )

    def add(self, result: SessionResult) -> None:
        """Fold one session in."""
        self.sessions += 1
        self.crashed += result.error is not None
        for experiment, record in result.assignments.items():
            variant = record.get("variant") or "(not enrolled)"
            self.counts[experiment][variant] += 1
            sums = self.sums[(experiment, variant)]
            for name, value in result.outcome.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    sums[name] += value

    def means(self, experiment: str, variant: str) -> dict[str, float]:
        """Mean of each numeric outcome over the variant's sessions."""
        n = self.counts[experiment][variant]
        return {name: total / n for name, total in self.sums[(experiment, variant)].items()} if n else {}


def plan_sessions(
    items: Sequence[Mapping[str, Any]], sessions: int, *, seed: int = 0, prefix: str = "s"
) -> list[SessionPlan]:
    """``sessions`` sessions over ``items`` (drawn with replacement, seeded), ids ``{prefix}-{i:06d}``."""
    if not items:
        raise ValueError("the workflow's dataset is empty")
    rng = random.Random(seed)
    return [SessionPlan(i, f"{prefix}-{i:06d}", items[rng.randrange(len(items))]) for i in range(sessions)]


def _assignments(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    routing = state.get(ROUTING_KEY) or {}
    return {
        exp: {"variant": rec.get("variant"), "model": rec.get("model"), "reason": rec.get("reason")}
        for exp, rec in routing.items()
    }


def run_sessions(
    graph: Any,
    plans: Iterable[SessionPlan],
    *,
    make_input: Callable[[Mapping[str, Any], str], dict[str, Any]],
    outcome: Callable[[Mapping[str, Any]], dict[str, Any]],
    workers: int = 8,
    config: RunnableConfig | None = None,
    observers: Sequence[Callable[[SessionResult], None]] = (),
    after: Callable[[Mapping[str, Any], Mapping[str, Any]], None] | None = None,
) -> RunSummary:
    """Invoke ``graph`` once per plan on ``workers`` threads; observers see each result as it completes.

    ``after(input, final_state)`` runs in the session's own thread once the graph returned (live scoring:
    judge calls overlap across sessions); an exception in it is logged, never fails the session. A session
    whose graph raises is recorded with ``error`` (the reference graphs never raise; a user's graph might)
    and the run goes on.
    """
    summary = RunSummary()
    lock = threading.Lock()
    started = time.perf_counter()

    def one(plan: SessionPlan) -> SessionResult:
        t0 = time.perf_counter()
        item_id = str(plan.item.get("id", plan.index))
        request = make_input(plan.item, plan.session_id)
        try:
            state = graph.invoke(request, config)
        except Exception as exc:
            return SessionResult(
                plan.index,
                plan.session_id,
                item_id,
                {},
                {},
                time.perf_counter() - t0,
                f"{type(exc).__name__}: {exc}",
            )
        duration = time.perf_counter() - t0
        if after is not None:
            try:
                after(request, state)
            except Exception:
                logger.exception("session %s: the after-session hook failed", plan.session_id)
        return SessionResult(
            plan.index, plan.session_id, item_id, _assignments(state), outcome(state), duration
        )

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ra-session") as pool:
        futures = [pool.submit(one, plan) for plan in plans]
        for future in as_completed(futures):
            result = future.result()
            with lock:
                summary.add(result)
                for observer in observers:
                    observer(result)
    summary.seconds = time.perf_counter() - started
    return summary
