"""Routing overhead, side by side with the named peers, in one run.

1. A compiled LangGraph graph (routing node + three agent nodes) with the memory, SQLite and Redis stores
   vs the same graph with an empty node in the routing node's place. Target: memory ≤ 1.15× empty.
2. Our assignment (hash + variant choice) vs the ``growthbook`` SDK's ``run()`` for the same unit ids.
   Target: ≥ 5× faster. (From ``benchmarks/assignment_speed.py``.)
3. Our Redis get-or-set vs one raw redis-py ``SET NX`` round trip. Target: ≤ 1.2×.

Every session id is new (the worst case: hash, store write, count). Figures are medians over repeats.

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


def graph_section(sessions: int, repeats: int, redis_url: str) -> list[tuple[str, float, float]]:
    rows = []
    empty = build(_empty)
    time_graph(empty, 200, 1)  # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        stores = {
            "memory": open_store("memory://"),
            "sqlite": open_store(str(Path(tmp) / "bench.sqlite3")),
            "redis": open_store(redis_url, prefix=f"bench-{uuid.uuid4().hex[:8]}"),
        }
        graphs = {name: build(RoutingNode(CONFIG, store=store)) for name, store in stores.items()}
        for graph in graphs.values():
            time_graph(graph, 200, 1)
        # interleave the empty baseline with each store so machine drift hits both sides
        for name, graph in graphs.items():
            base = time_graph(empty, sessions, repeats)
            ours = time_graph(graph, sessions, repeats)
            rows.append((name, ours, base))
        for store in stores.values():
            store.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args(argv)

    with local_redis(args.redis_url) as redis_url:
        print(f"1. graph with routing node vs empty node ({args.sessions} new sessions × {args.repeats})")
        header = f"   {'store':<8} {'routing µs/call':>16} {'empty µs/call':>14} {'ratio':>7}"
        print(header + "  target ≤ 1.15 (memory)")
        for name, ours, base in graph_section(args.sessions, args.repeats, redis_url):
            print(f"   {name:<8} {ours * 1e6:>16.1f} {base * 1e6:>14.1f} {ours / base:>7.3f}")
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
