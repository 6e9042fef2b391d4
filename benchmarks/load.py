"""Sustained load on the reference workflows: K processes × M threads + T asyncio tasks against one Redis.

Every process runs the three reference workflows (support triage, invoice extraction, RAG Q&A) with the
simulated provider, a routing node on a shared Redis (or Redis Cluster) store, OTel telemetry and the
buffered observation writer to the same Redis. Units come from a window of ids that slides with time, so a
new unit is hit by several processes at once. Afterwards the run is checked, not just timed:

* split units — a unit whose LLM calls saw two variants (must be 0), units whose stored variant is not the
  one their calls used, and per-variant assignment counts in the store that differ from the units seen;
* lost observations — accepted by the writer but neither in the store nor counted as dropped (must be 0);
  and routed LLM calls made vs ``calls`` observations stored, per experiment;
* SRM — distinct units per variant vs the configured weights (chi-square, flagged at p < 0.001);
* the routing node's own wall time per invocation (p50/p99/max) and sessions/s sustained.

    python benchmarks/load.py --duration 600 --processes 2 --threads 4 --tasks 8 [--redis-url URL] [--cluster]

Exit code 1 when an invariant is violated. ``tests/load`` runs the same code for a few seconds in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import queue
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.load_worker import WorkerArgs, WorkerReport, run_worker
from routing_agent.config.spec import ExperimentSpec, Unit
from routing_agent.stats.srm import SrmResult, srm_test
from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations import open_observation_store

WORKFLOWS = ("support", "invoice", "rag")
Fault = tuple[float, Callable[[], None]]
"""(seconds after the start line, action run by the parent process then)."""


@dataclass
class LoadReport:
    """Figures and invariant checks of one load run."""

    duration_s: float
    processes: int
    threads: int
    tasks: int
    sessions: int = 0
    elapsed_s: float = 0.0
    overhead_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    units: dict[str, int] = field(default_factory=dict)
    split: list[tuple[str, str, set[str]]] = field(default_factory=list)
    store_mismatch: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    count_mismatch: dict[str, tuple[dict[str, int], dict[str, int]]] = field(default_factory=dict)
    """Experiment → (assignments the store counted per variant, units seen per variant) when they differ."""
    calls_made: dict[str, int] = field(default_factory=dict)
    calls_observed: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    written: int = 0
    dropped: int = 0
    stored: int = 0
    srm: dict[str, SrmResult] = field(default_factory=dict)
    decisions: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    pending_writeback: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def sessions_per_s(self) -> float:
        return self.sessions / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def lost(self) -> int:
        """Observations accepted but neither stored nor counted as dropped."""
        return self.accepted - self.dropped - self.stored

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.overhead_s, q)) if self.overhead_s.size else float("nan")

    def problems(self) -> list[str]:
        """Every violated invariant, in words (empty when the run is clean)."""
        out = []
        if self.errors:
            out.append(
                f"{len(self.errors)} exception(s) reached a caller or a worker: {self.errors[0][-800:]}"
            )
        if self.split:
            out.append(f"{len(self.split)} unit(s) saw two variants, e.g. {self.split[:3]}")
        if self.store_mismatch:
            out.append(f"{len(self.store_mismatch)} unit(s) hold another variant: {self.store_mismatch[:3]}")
        for experiment, (stored, seen) in self.count_mismatch.items():
            out.append(f"{experiment}: the store counted {stored} assignments, the calls saw units {seen}")
        if self.lost:
            out.append(f"{self.lost} observation(s) lost (accepted {self.accepted}, stored {self.stored}, "
                       f"dropped {self.dropped})")  # fmt: skip
        if self.dropped == 0 and self.calls_made != self.calls_observed:
            out.append(f"routed calls {self.calls_made} != calls observed {self.calls_observed}")
        for experiment, result in self.srm.items():
            if result.mismatch:
                split = dict(zip(result.variants, result.observed, strict=True))
                out.append(f"SRM in {experiment}: {split}, p = {result.p_value:.2g}")
        if self.pending_writeback:
            out.append(f"{self.pending_writeback} write-back(s) still pending after close")
        return out

    def lines(self) -> list[str]:
        """The human report."""
        n_units = sum(self.units.values())
        ms = 1000.0
        p50, p99, top = (self.percentile(q) * ms for q in (50, 99, 100))
        out = [
            f"sessions            {self.sessions} in {self.elapsed_s:.1f} s = {self.sessions_per_s:.1f} "
            f"sessions/s sustained ({self.processes} proc × {self.threads} threads + {self.tasks} tasks)",
            f"routing overhead    p50 {p50:.2f} ms   p99 {p99:.2f} ms   max {top:.1f} ms   "
            f"({self.overhead_s.size} routing-node invocations)",
            f"split units         {len(self.split)} of {n_units} units (must be 0); store disagrees on "
            f"{len(self.store_mismatch)}",
            f"lost observations   {self.lost} (must be 0): accepted {self.accepted} = stored {self.stored} + "
            f"dropped (counted) {self.dropped}",
        ]  # fmt: skip
        for experiment, made in sorted(self.calls_made.items()):
            out.append(
                f"  calls {experiment:<20} made {made}, observed {self.calls_observed.get(experiment, 0)}"
            )
        for experiment, result in sorted(self.srm.items()):
            split = ", ".join(f"{v} {n}" for v, n in zip(result.variants, result.observed, strict=True))
            verdict = "SRM!" if result.mismatch else "ok"
            out.append(f"  SRM   {experiment:<20} {split}: p = {result.p_value:.3g} ({verdict})")
        reasons = ", ".join(f"{k} {v}" for k, v in self.decisions.most_common())
        events = ", ".join(f"{k} {v}" for k, v in sorted(self.events.items())) or "none"
        out.append(f"routing decisions   {reasons}")
        out.append(f"store events        {events}")
        return out


def _specs(workflows: Sequence[str]) -> dict[str, ExperimentSpec]:
    from routing_agent.config.loader import load_experiments
    from routing_agent.workflows import get_workflow

    specs: dict[str, ExperimentSpec] = {}
    for name in workflows:
        for spec in load_experiments(get_workflow(name).default_config):
            specs[spec.id] = spec
    return specs


def run_load(
    store_url: str,
    obs_url: str,
    *,
    workflows: Sequence[str] = WORKFLOWS,
    processes: int = 2,
    threads: int = 4,
    tasks: int = 8,
    duration_s: float = 10.0,
    time_scale: float = 0.001,
    window: int = 24,
    advance_per_s: float = 12.0,
    faults: Sequence[Fault] = (),
    seed: int = 0,
    sessions_per_driver: int = 0,
) -> LoadReport:
    """Drive the load, apply ``faults`` on schedule, then check the stores; returns the report.

    ``sessions_per_driver`` > 0 runs that many sessions on every thread and asyncio task instead of running
    for ``duration_s`` (tests: the same work on a fast or a busy machine)."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes + 1)
    out = ctx.Queue()
    procs = []
    for i in range(processes):
        args = WorkerArgs(i, store_url, obs_url, tuple(workflows), threads, tasks, duration_s, time_scale,
                          window, advance_per_s, seed, sessions_per_driver)  # fmt: skip
        procs.append(ctx.Process(target=run_worker, args=(args, barrier, out), daemon=True))
    for proc in procs:
        proc.start()
    reports: list[WorkerReport] = []
    try:
        barrier.wait(timeout=300)
        start = time.monotonic()
        for offset, action in sorted(faults, key=lambda f: f[0]):
            time.sleep(max(0.0, start + offset - time.monotonic()))
            action()
        for _ in procs:
            reports.append(out.get(timeout=(900 if sessions_per_driver else duration_s + 300)))  # hang guard
    except (queue.Empty, threading.BrokenBarrierError) as exc:
        raise RuntimeError(f"load workers did not finish: {exc!r}; got {len(reports)} report(s)") from exc
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    return check(reports, store_url, obs_url, _specs(workflows), duration_s, threads, tasks)


def check(
    reports: Sequence[WorkerReport],
    store_url: str,
    obs_url: str,
    specs: dict[str, ExperimentSpec],
    duration_s: float,
    threads: int,
    tasks: int,
) -> LoadReport:
    """Merge the workers' reports and check them against what the stores hold."""
    report = LoadReport(duration_s, len(reports), threads, tasks)
    seen: dict[tuple[str, str], set[str]] = {}
    for r in reports:
        report.sessions += r.sessions
        report.elapsed_s = max(report.elapsed_s, r.elapsed_s)
        report.errors.extend(r.errors)
        report.accepted += r.accepted
        report.written += r.written
        report.dropped += r.dropped + r.buffered
        for key, variants in r.seen.items():
            seen.setdefault(key, set()).update(variants)
        for experiment, n in r.calls.items():
            report.calls_made[experiment] = report.calls_made.get(experiment, 0) + n
        for stats in r.routing.values():
            for reasons in stats["decisions"].values():
                report.decisions.update(reasons)
            report.events.update(stats["events"])
            report.pending_writeback += stats["pending_writeback"]
    report.overhead_s = np.asarray([d for r in reports for d in r.overhead_s])
    per_variant: dict[str, Counter[str]] = {}
    for (experiment, unit), variants in seen.items():
        if len(variants) > 1:
            report.split.append((experiment, unit, variants))
        per_variant.setdefault(experiment, Counter())[min(variants)] += 1
    report.units = {e: sum(c.values()) for e, c in per_variant.items()}
    store = open_store(store_url, timeout_s=10.0)
    try:
        for (experiment, unit), variants in seen.items():
            spec = specs.get(experiment)
            if spec is None or spec.unit is Unit.REQUEST:
                continue  # request units never touch the store
            held = store.get(experiment, unit)
            if held is None or {held} != variants:
                report.store_mismatch.append((experiment, unit, held, ",".join(sorted(variants))))
        for experiment, counts in per_variant.items():
            if specs[experiment].unit is not Unit.REQUEST and store.counts(experiment) != dict(counts):
                report.count_mismatch[experiment] = (store.counts(experiment), dict(counts))
    finally:
        store.close()
    observations = open_observation_store(obs_url)
    try:
        for experiment in specs:
            for metric in observations.metrics(experiment):
                n = sum(a.n_obs for a in observations.unit_aggregates(experiment, metric).values())
                report.stored += n
                if metric == "calls":
                    report.calls_observed[experiment] = n
    finally:
        observations.close()
    for experiment, counts in per_variant.items():
        spec = specs[experiment]
        weights = {v.name: v.weight or 0.0 for v in spec.variants}
        report.srm[experiment] = srm_test({name: counts.get(name, 0) for name in weights}, weights)
    return report


@contextlib.contextmanager
def _target(redis_url: str | None, cluster: bool) -> Iterator[tuple[str, bool]]:
    if cluster:
        from tests.support.redis_cluster import RedisCluster3

        nodes = RedisCluster3().start()
        try:
            yield nodes.url, True
        finally:
            nodes.stop()
        return
    from benchmarks.redis_server import local_redis

    with local_redis(redis_url) as url:
        yield url, False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per process (graph.invoke)")
    parser.add_argument("--tasks", type=int, default=8, help="asyncio tasks per process (graph.ainvoke)")
    parser.add_argument("--workflows", default=",".join(WORKFLOWS))
    parser.add_argument("--redis-url", default=None, help="default: $REDIS_URL, else a private redis-server")
    parser.add_argument("--cluster", action="store_true", help="a private 3-node Redis Cluster instead")
    parser.add_argument("--time-scale", type=float, default=0.001, help="seconds slept per simulated second")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="routing store timeout (s); default: the production defaults (50 ms sync, 250 ms asyncio)",
    )
    args = parser.parse_args(argv)
    workflows = [w.strip() for w in args.workflows.split(",") if w.strip()]
    with _target(args.redis_url, args.cluster) as (url, cluster):
        prefix = f"load-{uuid.uuid4().hex[:8]}"
        query = f"prefix={prefix}" + ("&cluster=true" if cluster else "")
        store_url = f"{url}?{query}" + (f"&timeout={args.timeout}" if args.timeout is not None else "")
        obs_url = f"{url}?{query}"
        where = "3-node Redis Cluster" if cluster else url
        print(f"load: {', '.join(workflows)} on {where} (prefix {prefix}), {args.duration:g} s")
        report = run_load(
            store_url, obs_url, workflows=workflows, processes=args.processes, threads=args.threads,
            tasks=args.tasks, duration_s=args.duration, time_scale=args.time_scale,
            advance_per_s=4.0 * args.processes,
        )  # fmt: skip
    for line in report.lines():
        print(line)
    problems = report.problems()
    for problem in problems:
        print(f"FAIL: {problem}")
    print("all invariants hold" if not problems else f"{len(problems)} invariant(s) violated")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
