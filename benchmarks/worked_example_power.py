"""How often does the worked example reach its segment-level reading? A Monte Carlo over seeds, fast path.

Running the whole graph for 12,000 sessions per seed takes minutes, so this resamples *sessions* from pools
of sessions the real graph produced (``routing-agent demo --scenario worked-example`` run directories, each
with its ``observations.sqlite3``) and runs the real evaluator on each replicate::

    python -m benchmarks.worked_example_power POOL_DIR [POOL_DIR ...] --replicates 40 --sessions 12000

Each replicate randomizes ``--sessions`` units 50/50 as the experiment does (a fair coin per unit: resampling
the pool as a whole would carry its own chance imbalance into every replicate and fake SRM alarms), draws each
from its arm's pooled units with replacement (every observation of a unit travels together: its segment, its
resolution, latency, cost and refusals), renames them, writes them to an in-memory store and calls
``evaluate``. A replicate succeeds when the decision is a segmentation whose
``ship_segment`` is ``{complexity: [easy]}``. Printed: the success rate with its Monte Carlo standard error
(√(p(1−p)/R)), the decision kinds, and the pooled per-arm, per-segment resolution rates. The rate is
conditional on the pools (the bootstrap treats the pooled rates as the truth): use pools from seeds other
than the ones being judged, and as many sessions as you can afford.
"""

from __future__ import annotations

import argparse
import math
import random
import sqlite3
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from routing_agent.config.loader import load_experiments
from routing_agent.evaluation import evaluate
from routing_agent.stores.observations import open_observation_store
from routing_agent.stores.observations.observation import Observation
from routing_agent.workflows.base import shipped_config

Unit = tuple[str, list[tuple[str, float, str | None, dict[str, str], float]]]


def load_pool(dirs: list[Path], experiment: str) -> list[Unit]:
    """Every unit of ``experiment`` in the pools' observation stores: (variant, its observations)."""
    import json

    units: dict[tuple[int, str], Unit] = {}
    for n, d in enumerate(dirs):
        con = sqlite3.connect(d / "observations.sqlite3")
        try:
            rows = con.execute(
                "SELECT unit_id, variant, metric, value, agent, segments, ts FROM observations "
                "WHERE experiment = ?",
                (experiment,),
            ).fetchall()
        finally:
            con.close()
        for unit_id, variant, metric, value, agent, segments, ts in rows:
            unit = units.setdefault((n, unit_id), (variant, []))
            unit[1].append((metric, value, agent, json.loads(segments), ts))
    return list(units.values())


def replicate(spec: Any, pool: list[Unit], sessions: int, seed: int) -> Any:
    """One replicate's decision."""
    rng = random.Random(seed)
    arms: dict[str, list[Unit]] = defaultdict(list)
    for unit in pool:
        arms[unit[0]].append(unit)
    names = sorted(arms)
    weights = [next(v.weight for v in spec.variants if v.name == n) for n in names]
    store = open_observation_store("memory://")
    try:
        batch: list[Observation] = []
        for i in range(sessions):
            units = arms[rng.choices(names, weights=weights)[0]]
            variant, rows = units[rng.randrange(len(units))]
            uid = f"r{seed}-{i}"
            batch.extend(
                Observation(spec.id, variant, uid, m, v, agent=a, segments=s, ts=ts, id=f"{uid}:{j}")
                for j, (m, v, a, s, ts) in enumerate(rows)
            )
        store.add(batch)
        return evaluate(spec, observations=store).decision
    finally:
        store.close()


def rates(pool: list[Unit]) -> dict[tuple[str, str], tuple[int, float]]:
    """Pooled resolution per (arm, complexity)."""
    acc: dict[tuple[str, str], list[float]] = defaultdict(list)
    for variant, rows in pool:
        for m, v, _, s, _ in rows:
            if m == "resolved":
                acc[(variant, s.get("complexity", "-"))].append(v)
    return {k: (len(v), sum(v) / len(v)) for k, v in sorted(acc.items())}


def main(argv: list[str] | None = None) -> int:
    """Run the Monte Carlo (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pools", nargs="+", type=Path)
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--sessions", type=int, default=12_000)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    config = load_experiments(args.config or shipped_config("scenarios/worked-example.yaml"))
    (spec,) = config.experiments
    pool = load_pool(args.pools, spec.id)
    print(f"pool: {len(pool)} units from {len(args.pools)} run(s)")
    for (arm, seg), (n, rate) in rates(pool).items():
        print(f"  {arm:8s} complexity={seg:8s} n={n:6d} resolved={rate:.4f}")
    kinds: Counter[str] = Counter()
    ok = 0
    for r in range(args.replicates):
        d = replicate(spec, pool, args.sessions, args.first_seed + r)
        good = d.kind.value == "segmentation" and d.evidence.get("ship_segment") == {"complexity": ["easy"]}
        ok += good
        kinds[d.kind.value + ("" if good or d.kind.value != "segmentation" else " (other segments)")] += 1
        if not good:
            print(f"  replicate {args.first_seed + r}: {d.summary}")
    p = ok / args.replicates
    se = math.sqrt(p * (1 - p) / args.replicates)
    print(f"segment-level reading reached: {ok}/{args.replicates} = {p:.3f} (MC s.e. {se:.3f})")
    print(f"decisions: {dict(kinds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
