"""Evaluator time and peak memory as observations grow, beside the raw-rows peer, in one run.

An experiment of support sessions: each has a ``resolved`` outcome and four LLM calls, each call
``calls``, ``latency_s``, ``refusal``, ``unpriced`` and ``cost_usd`` — 21 observations per session. The spec
has the support playbook's primary metric and three guardrails (p95 latency, refusal rate, cost per session).

* **evaluator** — ``routing_agent.evaluation.evaluate`` on the store: per-unit sums computed by the store
  (SQLite ``GROUP BY``; Redis server-side sums and Lua), the decision path only (no timeline replay);
* **raw rows → numpy** (the peer: what a notebook does) — ``SELECT`` every row of the experiment, group per
  unit with numpy and run the same tests (the two-proportion z, Welch on cost per session, and the
  clustered p95 from ``routing_agent.stats``). Redis keeps no raw rows, so the peer runs on SQLite only.

Each contender runs in a fresh process and first runs once on a small warm-up experiment (imports, lazy
scipy modules, every code path); then the kernel's peak-RSS mark is reset and peak memory is the peak RSS of
the measured run above the RSS before it (so it counts SQLite's, the Redis client's and numpy's C
allocations, not only Python's). Times are one run with warm imports.

    python benchmarks/evaluator_scale.py [--sizes 100000,1000000] [--backends sqlite,redis] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.redis_server import local_redis
from routing_agent.config.spec import ExperimentSpec
from routing_agent.stores.observations import Observation, open_observation_store

EXP = "bench"
PER_SESSION = 21
SPEC = {
    "id": EXP,
    "variants": [
        {"name": "control", "model": "m:large", "control": True},
        {"name": "candidate", "model": "m:small"},
    ],
    "primary_metric": {"name": "resolved", "kind": "binary", "mde": 0.02, "baseline": 0.87},
    "guardrails": [
        {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3},
        {"metric": "refusal", "max_ratio_to_control": 2.0},
        {"metric": "cost_usd", "max_ratio_to_control": 1.0},
    ],
}


def _reset_peak() -> None:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux: ``clear_refs`` value 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _rss_mb() -> float:
    """Peak RSS since the last reset (VmHWM), MB."""
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024.0


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def fill(url: str, observations: int, seed: int = 1, experiment: str = EXP) -> int:
    """Write ``observations`` (rounded to whole sessions) into the store; returns sessions written."""
    rng = np.random.default_rng(seed)
    sessions = observations // PER_SESSION
    store = open_observation_store(url)
    EXP = experiment
    batch: list[Observation] = []
    for s in range(sessions):
        variant = "control" if s % 2 == 0 else "candidate"
        unit, ts = f"s{s}", 1_000_000.0 + s
        small = variant == "candidate"
        batch.append(Observation(EXP, variant, unit, "resolved", float(rng.random() < 0.87), ts=ts))
        for c in range(4):
            lat = float(rng.lognormal(0.0, 0.5)) * (0.6 if small else 1.0)
            for metric, value in (
                ("calls", 1.0), ("latency_s", lat), ("refusal", float(rng.random() < 0.003)),
                ("unpriced", 0.0), ("cost_usd", (0.0025 if small else 0.01) * float(rng.lognormal(0, 0.3))),
            ):  # fmt: skip
                batch.append(Observation(EXP, variant, unit, metric, value, ts=ts + c))
        if len(batch) >= 2_000:
            store.add(batch)
            batch = []
    if batch:
        store.add(batch)
    store.close()
    return sessions


def child_evaluator(url: str) -> dict[str, Any]:
    from routing_agent.evaluation import evaluate

    store = open_observation_store(url)
    evaluate(ExperimentSpec.model_validate({**SPEC, "id": "warm-up"}), observations=store)
    base = _current_rss_mb()
    _reset_peak()
    t0 = time.perf_counter()
    ev = evaluate(ExperimentSpec.model_validate(SPEC), observations=store)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_mb": _rss_mb() - base, "decision": ev.decision.kind.value}


def child_raw(url: str) -> dict[str, Any]:
    from routing_agent.stats import (
        ClusteredValues,
        SampleSummary,
        compare_means,
        compare_proportions,
        compare_quantiles,
    )

    path = url.removeprefix("sqlite:///")
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("SELECT 1").fetchall()
    warm = conn.execute("SELECT value FROM observations WHERE experiment = 'warm-up' LIMIT 300").fetchall()
    tiny = ClusteredValues(np.array([w[0] for w in warm]), np.arange(len(warm)) // 3)
    compare_quantiles(tiny, tiny, q=0.95)  # warm imports, like the evaluator's warm-up
    base = _current_rss_mb()
    _reset_peak()
    t0 = time.perf_counter()
    rows = conn.execute(
        "SELECT variant, unit_id, metric, value FROM observations WHERE experiment = ?", [EXP]
    ).fetchall()
    variant = np.array([r[0] == "candidate" for r in rows])
    units = np.array([int(r[1][1:]) for r in rows])
    metric = np.array([r[2] for r in rows])
    value = np.array([r[3] for r in rows])
    out = {}
    for name in ("resolved", "cost_usd", "latency_s"):
        m = metric == name
        per = {}
        for arm in (False, True):
            sel = m & (variant == arm)
            _, inv = np.unique(units[sel], return_inverse=True)
            per[arm] = (np.bincount(inv, weights=value[sel]), value[sel], inv)
        if name == "resolved":
            out[name] = compare_proportions(
                SampleSummary.from_values(per[False][0]), SampleSummary.from_values(per[True][0])
            ).p_value
        elif name == "cost_usd":
            out[name] = compare_means(
                SampleSummary.from_values(per[False][0]), SampleSummary.from_values(per[True][0])
            ).p_value
        else:
            c = ClusteredValues(per[False][1], per[False][2])
            t = ClusteredValues(per[True][1], per[True][2])
            out[name] = compare_quantiles(c, t, q=0.95).p_value
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_mb": _rss_mb() - base, "decision": "-"}


def run_child(kind: str, url: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--url", url], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} on {url} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--backends", default="sqlite,redis")
    parser.add_argument("--redis-url")
    parser.add_argument("--child", choices=["evaluator", "raw"])
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child:
        print(json.dumps((child_evaluator if args.child == "evaluator" else child_raw)(args.url)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    print(
        f"{'backend':8} {'observations':>12} {'sessions':>9} {'fill s':>7} | {'evaluator s':>11} "
        f"{'peak MB':>8} {'decision':>13} | {'raw rows s':>10} {'peak MB':>8} | {'speed-up':>8}"
    )
    with (
        tempfile.TemporaryDirectory(prefix="ra-bench-eval-") as tmp,
        local_redis(args.redis_url) as redis_url,
    ):
        for backend in backends:
            for size in sizes:
                if backend == "sqlite":
                    url = f"sqlite:///{tmp}/obs-{size}.sqlite3"
                else:
                    url = f"{redis_url}?prefix=bench-eval-{size}-{int(time.time())}"
                t0 = time.perf_counter()
                fill(url, 200 * PER_SESSION, experiment="warm-up")
                sessions = fill(url, size)
                filled = time.perf_counter() - t0
                ours = run_child("evaluator", url)
                peer = run_child("raw", url) if backend == "sqlite" else None
                ratio = f"{peer['seconds'] / ours['seconds']:.1f}×" if peer else "n/a"
                peer_cells = (
                    f"{peer['seconds']:>10.2f} {peer['peak_mb']:>8.0f}"
                    if peer
                    else f"{'(no rows)':>10} {'':>8}"
                )
                cells = f"{ours['seconds']:>11.2f} {ours['peak_mb']:>8.0f} {ours['decision']:>13}"
                print(
                    f"{backend:8} {sessions * PER_SESSION:>12,} {sessions:>9,} {filled:>7.1f} | {cells} | "
                    f"{peer_cells} | {ratio:>8}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
