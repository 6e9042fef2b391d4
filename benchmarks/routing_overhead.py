"""Routing overhead, side by side with the named peers, in one run.

1. A compiled LangGraph graph (routing node + three agent nodes) with the memory, SQLite and Redis stores
   vs the same graph with an empty node in the routing node's place. Target: ≤ 1.15× empty on every store.
2. Our assignment (hash + variant choice) vs the ``growthbook`` SDK's ``run()`` for the same unit ids.
   Target: ≥ 5× faster. (From ``benchmarks/assignment_speed.py``.)
3. Our Redis get-or-set vs one raw redis-py ``SET NX`` round trip. Target: ≤ 1.2×.

Every session id is new (the worst case: hash, store write, count). Figures are medians over repeats; each
repeat times the empty graph and every store's graph back to back (ratios survive a busy machine better
than absolute times). Section 1 ends with where a Redis routing node's time goes: one raw round trip
(``SET NX PX``), our ``get_or_set`` (client + server), and the server time of our script against a plain
``SET`` (``INFO commandstats``), each as a share of the empty graph.

    python benchmarks/routing_overhead.py [--sessions 2000] [--repeats 5] [--redis-url redis://…]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import redis
from langgraph.graph import END, START, StateGraph

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.redis_server import local_redis
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.graph import RoutingNode, RoutingState
from routing_agent.stores.assignments import open_store

CONFIG = ExperimentsConfig.model_validate(
    {
        "experiments": [
            {
                "id": "bench",
                "variants": [
                    {"name": "control", "model": "simulated:strong-expensive", "control": True, "weight": 80},
                    {"name": "candidate", "model": "simulated:fast-cheap", "weight": 20},
                ],
            }
        ]
    }
)


class State(RoutingState, total=False):
    session_id: str
    answer: str


def _agent(name: str):
    def agent(state: State) -> dict[str, Any]:
        return {"answer": name}

    return agent


def _empty(state: State) -> dict[str, Any]:
    return {}


def build(first: Any):
    g = StateGraph(State)
    g.add_node("route", first)
    g.add_edge(START, "route")
    prev = "route"
    for name in ("a", "b", "c"):
        g.add_node(name, _agent(name))
        g.add_edge(prev, name)
        prev = name
    g.add_edge(prev, END)
    return g.compile()


def time_graph(graph: Any, sessions: int, repeats: int) -> float:
    """Median seconds per invocation (new session ids every time)."""
    per_call = []
    for _ in range(repeats):
        ids = [uuid.uuid4().hex for _ in range(sessions)]
        start = time.perf_counter()
        for sid in ids:
            graph.invoke({"session_id": sid})
        per_call.append((time.perf_counter() - start) / sessions)
    return statistics.median(per_call)


def graph_section(sessions: int, repeats: int, redis_url: str) -> dict[str, list[tuple[float, float]]]:
    """Per store, (ours, empty) seconds per call for each repeat; the empty graph timed beside each store."""
    empty = build(_empty)
    time_graph(empty, 200, 1)  # warm-up
    rows: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stores = {
            "memory": open_store("memory://"),
            "sqlite": open_store(str(Path(tmp) / "bench.sqlite3")),
            "redis": open_store(redis_url, prefix=f"bench-{uuid.uuid4().hex[:8]}"),
        }
        graphs = {name: build(RoutingNode(CONFIG, store=store)) for name, store in stores.items()}
        for graph in graphs.values():
            time_graph(graph, 200, 1)
        for _ in range(repeats):  # interleave: machine drift hits both sides of every ratio alike
            for name, graph in graphs.items():
                base = time_graph(empty, sessions, 1)
                rows.setdefault(name, []).append((time_graph(graph, sessions, 1), base))
        for store in stores.values():
            store.close()
    return rows


def redis_breakdown(redis_url: str, ops: int = 2000) -> dict[str, float]:
    """Median µs of a raw SET NX PX round trip and of our get_or_set (new units), and server µs per call."""
    client = redis.Redis.from_url(redis_url)
    store = open_store(redis_url, prefix=f"bench-{uuid.uuid4().hex[:8]}")
    store.get_or_set("bench", "warm-up", "control")
    raw, ours = [], []
    for _ in range(3):
        ids = [uuid.uuid4().hex for _ in range(ops)]
        start = time.perf_counter()
        for sid in ids:
            client.set(f"bench-raw:{sid}", "control", nx=True, px=600_000)
        raw.append((time.perf_counter() - start) / ops)
        start = time.perf_counter()
        for sid in ids:
            store.get_or_set("bench", sid, "control")
        ours.append((time.perf_counter() - start) / ops)
    client.config_resetstat()
    for _ in range(ops):
        sid = uuid.uuid4().hex
        client.set(f"bench-raw:{sid}", "control", nx=True, px=600_000)
        store.get_or_set("bench", sid, "control")
    stats = client.info("commandstats")
    store.close()
    client.close()
    return {
        "raw": statistics.median(raw) * 1e6,
        "ours": statistics.median(ours) * 1e6,
        "server_set": float(stats.get("cmdstat_set", {}).get("usec_per_call", 0.0)),
        "server_script": float(stats.get("cmdstat_evalsha", {}).get("usec_per_call", 0.0)),
        "server_info": float(stats.get("cmdstat_info", {}).get("usec_per_call", 0.0)),
    }


def print_graph_section(sessions: int, repeats: int, redis_url: str) -> None:
    """Section 1: the ratio table and the Redis breakdown."""
    print(f"1. graph with routing node vs empty node ({sessions} new sessions × {repeats}, interleaved)")
    print(f"   {'store':<8} {'routing µs/call':>16} {'empty µs/call':>14} {'ratio':>7}  ratios per repeat")
    rows = graph_section(sessions, repeats, redis_url)
    empty_us = statistics.median(b for runs in rows.values() for _, b in runs) * 1e6
    for name, runs in rows.items():
        ratios = [ours / base for ours, base in runs]
        ours_us = statistics.median(o for o, _ in runs) * 1e6
        base_us = statistics.median(b for _, b in runs) * 1e6
        each = " ".join(f"{r:.2f}" for r in ratios)
        print(f"   {name:<8} {ours_us:>16.1f} {base_us:>14.1f} {statistics.median(ratios):>7.3f}  {each}")
    print("   target ≤ 1.15 on every store (median of the per-repeat ratios)")
    b = redis_breakdown(redis_url)
    print(
        f"   where a Redis node's extra time goes (new unit), share of the empty graph ({empty_us:.0f} µs):"
    )
    print(f"     raw SET NX PX round trip    {b['raw']:>7.1f} µs  {b['raw'] / empty_us:.3f}×")
    print(f"     our get_or_set round trip   {b['ours']:>7.1f} µs  {b['ours'] / empty_us:.3f}×")
    print(
        f"     server time: our script {b['server_script']:.1f} µs (of which INFO {b['server_info']:.1f} µs)"
        f" vs SET {b['server_set']:.1f} µs"
    )
    with open("/proc/loadavg") as f:
        print(f"   load average at the end: {f.read().split()[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args(argv)

    with local_redis(args.redis_url) as redis_url:
        print_graph_section(args.sessions, args.repeats, redis_url)
        try:
            from benchmarks import assignment_speed
        except ImportError:
            print("\n(benchmarks/assignment_speed.py not found: sections 2 and 3 skipped)")
            return 0
        print()
        assignment_speed.print_growthbook_section()
        print()
        assignment_speed.print_redis_section(redis_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
