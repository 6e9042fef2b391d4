"""Assignment speed, side by side with the named peers, in one run.

1. Our assignment (GrowthBook v2 hash + variant choice for an experiment spec) vs the ``growthbook`` Python
   SDK's ``run()`` for the same unit ids, same seed, weights, coverage and hashVersion 2. Both must give the
   same variant (or "not enrolled") for every id; the script checks it. GrowthBook is timed two ways: one
   instance reused with ``set_attributes`` per unit (its fastest path; what we compare against) and a new
   ``GrowthBook(attributes=…)`` per unit (how a server that builds one per request uses it). Target: ≥ 5×.
2. Our ``RedisStore.get_or_set`` vs one raw redis-py ``SET key value NX`` round trip against the same local
   redis-server, same client settings; per-operation latencies, medians compared. Target: ≤ 1.2×.
   Rows for a new unit (our script: GET, SET, HINCRBY) and a unit already stored (sticky; GET only).

    python benchmarks/assignment_speed.py [--units 100000] [--ops 5000] [--repeats 5] [--redis-url redis://…]

Without ``--redis-url`` or ``$REDIS_URL`` a redis-server from PATH is started on a free port and stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
from growthbook import Experiment, GrowthBook

from benchmarks.redis_server import local_redis
from routing_agent.assignment.hashing import bucket_ranges, choose_variation, hash_v2
from routing_agent.config.spec import ExperimentSpec
from routing_agent.stores.assignments import MemoryStore, SQLiteStore
from routing_agent.stores.assignments.redis import RedisStore

SPEC = ExperimentSpec.model_validate(
    {
        "id": "checkout-model",
        "salt": "checkout-2025",
        "coverage": 0.9,
        "variants": [
            {"name": "control", "model": "openai:gpt-4.1", "control": True, "weight": 60},
            {"name": "candidate", "model": "openai:gpt-5", "weight": 20},
            {"name": "small", "model": "openai:gpt-5-mini", "weight": 20},
        ],
    }
)

TIMEOUT_S = 1.0  # both clients alike; generous, so a busy machine slows a figure instead of failing the run

# -- 1. hashing vs GrowthBook ------------------------------------------------------------------------------


def ours(units: list[str]) -> list[str | None]:
    """Hash + choose for the spec: the bucketing part of our assigner (ranges built once per spec)."""
    ranges = bucket_ranges(SPEC.weights, SPEC.coverage)
    names = [v.name for v in SPEC.variants]
    seed = SPEC.seed
    out: list[str | None] = []
    append = out.append
    for unit in units:
        i = choose_variation(hash_v2(seed, unit), ranges)
        append(names[i] if i >= 0 else None)
    return out


def _gb_experiment() -> Experiment[str]:
    return Experiment(
        key=SPEC.id,
        variations=[v.name for v in SPEC.variants],
        weights=list(SPEC.weights),
        coverage=SPEC.coverage,
        hashVersion=2,
        seed=SPEC.seed,
    )


def growthbook_reused(units: list[str]) -> list[str | None]:
    """One GrowthBook instance, attributes set per unit, ``run()`` per unit."""
    gb = GrowthBook()
    exp = _gb_experiment()
    out: list[str | None] = []
    for unit in units:
        gb.set_attributes({"id": unit})
        r = gb.run(exp)
        out.append(r.value if r.inExperiment else None)
    return out


def growthbook_per_unit(units: list[str]) -> list[str | None]:
    """A new GrowthBook instance per unit (per request), then ``run()``."""
    exp = _gb_experiment()
    out: list[str | None] = []
    for unit in units:
        r = GrowthBook(attributes={"id": unit}).run(exp)
        out.append(r.value if r.inExperiment else None)
    return out


def _median_per_unit(fn: Callable[[list[str]], Any], units: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(units)
        times.append((time.perf_counter() - start) / len(units))
    return statistics.median(times)


def growthbook_section(units: int = 100_000, repeats: int = 5) -> dict[str, Any]:
    ascii_ids = [f"user-{i}" for i in range(units)]
    unicode_ids = [f"usér-{i}-日本" for i in range(units // 10)]
    result: dict[str, Any] = {"units": units, "repeats": repeats, "rows": []}
    for label, ids in (("ASCII ids", ascii_ids), ("non-ASCII ids", unicode_ids)):
        expected = growthbook_reused(ids)
        got = ours(ids)
        mismatches = sum(a != b for a, b in zip(got, expected, strict=True))
        enrolled = sum(v is not None for v in got) / len(ids)
        reps = repeats if label == "ASCII ids" else max(1, repeats // 2)
        t_ours = _median_per_unit(ours, ids, reps)
        t_gb = _median_per_unit(growthbook_reused, ids, reps)
        t_gb_new = _median_per_unit(growthbook_per_unit, ids[: max(1, len(ids) // 5)], reps)
        result["rows"].append(
            {
                "ids": label,
                "n": len(ids),
                "ours_us": t_ours * 1e6,
                "gb_reused_us": t_gb * 1e6,
                "gb_per_unit_us": t_gb_new * 1e6,
                "mismatches": mismatches,
                "enrolled": enrolled,
            }
        )
    return result


def print_growthbook_section(units: int = 100_000, repeats: int = 5) -> None:
    res = growthbook_section(units, repeats)
    print(f"2. assignment (hash + choose) vs growthbook {_gb_version()} run(); medians of {repeats} repeats")
    print(
        f"   {'ids':<14} {'n':>7} {'ours µs':>8} {'GB reused µs':>13} {'speed-up':>9} "
        f"{'GB new/unit µs':>15} {'speed-up':>9} {'same variant':>13}"
    )
    for r in res["rows"]:
        same = "all" if r["mismatches"] == 0 else f"{r['mismatches']} DIFFER"
        print(
            f"   {r['ids']:<14} {r['n']:>7} {r['ours_us']:>8.2f} {r['gb_reused_us']:>13.2f} "
            f"{r['gb_reused_us'] / r['ours_us']:>8.1f}× {r['gb_per_unit_us']:>15.2f} "
            f"{r['gb_per_unit_us'] / r['ours_us']:>8.1f}× {same:>13}"
        )
    share = res["rows"][0]["enrolled"]
    print(f"   enrolled share (coverage {SPEC.coverage}): {share:.3f}; target ≥ 5× (reused instance)")


def _gb_version() -> str:
    from importlib.metadata import version

    return version("growthbook")


# -- 2. Redis get-or-set vs raw SET NX ---------------------------------------------------------------------


def _latencies(op: Callable[[int], Any], n: int) -> list[float]:
    out = []
    perf = time.perf_counter_ns
    for i in range(n):
        t = perf()
        op(i)
        out.append((perf() - t) / 1000)
    return out


def _paired(ours: Callable[[int], Any], raw: Callable[[int], Any], n: int) -> tuple[list[float], list[float]]:
    """Per-operation latencies (µs), ours and raw alternating op by op (who goes first alternates too), so
    both sides sample the same machine noise."""
    a: list[float] = []
    b: list[float] = []
    perf = time.perf_counter_ns
    for i in range(n):
        if i % 2:
            t0 = perf()
            ours(i)
            t1 = perf()
            raw(i)
            t2 = perf()
            a.append((t1 - t0) / 1000)
            b.append((t2 - t1) / 1000)
        else:
            t0 = perf()
            raw(i)
            t1 = perf()
            ours(i)
            t2 = perf()
            b.append((t1 - t0) / 1000)
            a.append((t2 - t1) / 1000)
    return a, b


async def _apaired(
    ours: Callable[[int], Any], raw: Callable[[int], Any], n: int
) -> tuple[list[float], list[float]]:
    a: list[float] = []
    b: list[float] = []
    perf = time.perf_counter_ns
    for i in range(n):
        first, second = (ours, raw) if i % 2 else (raw, ours)
        t0 = perf()
        await first(i)
        t1 = perf()
        await second(i)
        t2 = perf()
        (a if i % 2 else b).append((t1 - t0) / 1000)
        (b if i % 2 else a).append((t2 - t1) / 1000)
    return a, b


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def _add(row: dict[str, list[float]], pair: tuple[list[float], list[float]]) -> None:
    row["ours"] += pair[0]
    row["raw"] += pair[1]


def redis_section(url: str, ops: int = 5000, repeats: int = 5) -> dict[str, Any]:
    """Latencies of our get_or_set and raw SET NX against the server at ``url``, paired op by op."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    store = RedisStore.from_url(url, prefix=prefix, timeout_s=TIMEOUT_S)
    raw = redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
    store.get_or_set("warm", "up", "a")
    raw.set(f"{prefix}:warm", "a", nx=True)
    rows: dict[str, dict[str, list[float]]] = {
        "new unit": {"ours": [], "raw": []},
        "stored unit (sticky)": {"ours": [], "raw": []},
        "new unit, asyncio": {"ours": [], "raw": []},
    }
    setnx_get: list[float] = []
    for rep in range(repeats):
        units = [f"unit-{rep}-{i}" for i in range(ops)]
        keys = [f"{prefix}:raw:{rep}:{i}" for i in range(ops)]

        def create(i: int, units: list[str] = units) -> Any:
            return store.get_or_set("exp", units[i], "control")

        def stick(i: int, units: list[str] = units) -> Any:
            return store.get_or_set("exp", units[i], "candidate")

        def setnx(i: int, keys: list[str] = keys) -> Any:
            return raw.set(keys[i], "control", nx=True)

        def setnx_get_op(i: int, keys: list[str] = keys) -> Any:
            return raw.set(keys[i], "x", nx=True, get=True)

        _add(rows["new unit"], _paired(create, setnx, ops))
        _add(rows["stored unit (sticky)"], _paired(stick, setnx, ops))
        setnx_get += _latencies(setnx_get_op, ops)

    async def async_rows() -> None:
        araw = redis.asyncio.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
        try:
            await store.aget_or_set("warm", "up", "a")
            for rep in range(repeats):
                units = [f"aunit-{rep}-{i}" for i in range(ops)]
                keys = [f"{prefix}:araw:{rep}:{i}" for i in range(ops)]

                def acreate(i: int, units: list[str] = units) -> Any:
                    return store.aget_or_set("exp", units[i], "control")

                def asetnx(i: int, keys: list[str] = keys) -> Any:
                    return araw.set(keys[i], "control", nx=True)

                _add(rows["new unit, asyncio"], await _apaired(acreate, asetnx, ops))
        finally:
            await araw.aclose()
            await store.aclose()

    asyncio.run(async_rows())
    for key in raw.scan_iter(match=f"*{prefix}*", count=1000):
        raw.delete(key)
    raw.close()
    store.close()
    return {"ops": ops, "repeats": repeats, "rows": rows, "setnx_get": setnx_get}


def local_stores(ops: int = 5000) -> dict[str, list[float]]:
    """Our other backends' get-or-set latency for a new unit (no peer; for the README's table)."""
    out = {}
    memory = MemoryStore()
    out["memory"] = _latencies(lambda i: memory.get_or_set("exp", f"u{i}", "control"), ops)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = SQLiteStore(Path(tmp) / "bench.db")
        out["sqlite (new unit)"] = _latencies(lambda i: sqlite.get_or_set("exp", f"u{i}", "control"), ops)
        out["sqlite (sticky)"] = _latencies(lambda i: sqlite.get_or_set("exp", f"u{i}", "other"), ops)
        sqlite.close()
    return out


def print_redis_section(url: str, ops: int = 5000, repeats: int = 5) -> None:
    res = redis_section(url, ops, repeats)
    n = ops * repeats
    print(f"3. RedisStore.get_or_set vs raw redis-py SET NX (one round trip), {n} ops each, local server")
    print(
        f"   {'case':<22} {'ours p50 µs':>12} {'raw p50 µs':>11} {'ratio':>6} {'ours p99':>9} {'raw p99':>8}"
    )
    for case, r in res["rows"].items():
        o, w = statistics.median(r["ours"]), statistics.median(r["raw"])
        p99o, p99w = _p(r["ours"], 99), _p(r["raw"], 99)
        print(f"   {case:<22} {o:>12.1f} {w:>11.1f} {o / w:>6.2f} {p99o:>9.1f} {p99w:>8.1f}")
    setnx_get = statistics.median(res["setnx_get"])
    print(
        f"   (raw SET NX GET, Redis ≥ 7: p50 {setnx_get:.1f} µs)  target ratio ≤ 1.2 (p50, paired op by op)"
    )
    print("   other backends, get_or_set p50 µs: ", end="")
    print(", ".join(f"{k} {statistics.median(v):.1f}" for k, v in local_stores(ops).items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--ops", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args(argv)
    print_growthbook_section(args.units, args.repeats)
    print()
    with local_redis(args.redis_url) as url:
        print_redis_section(url, args.ops, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
