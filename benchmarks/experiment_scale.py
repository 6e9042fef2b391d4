"""Routing cost against the number of experiments in the config, side by side in one run.

A graph of three agents (``a``, ``b``, ``c``) behind a routing node, configs of 1, 100, 1,000 and 10,000
experiments of which only a few apply (1 % scoped to the graph's agents, at least one; the rest scoped to
agents this graph does not run). Per store (memory, Redis) it prints the routing cost per new session:

* ``agents=`` — ``RoutingNode(…, agents=("a", "b", "c"))``: only the applicable experiments are decided;
* ``all`` — no ``agents=``: every experiment is decided (the behaviour before; the issue measured 1.25 s per
  session on memory and 6.3 s on Redis at 10,000), timed on fewer sessions when slow;

beside the empty node's cost, the Redis network reads per session (``INFO`` ``total_reads_processed``: one
read per round trip), and the bytes of ``state["routing"]`` (JSON). A last row routes a unit in 100 applicable
experiments: still one Redis round trip per session.

    python benchmarks/experiment_scale.py [--sessions 300] [--redis-url redis://…]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
from langgraph.graph import END, START, StateGraph

from benchmarks.redis_server import local_redis
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.graph import RoutingNode, RoutingState
from routing_agent.stores.assignments import open_store

AGENTS = ("a", "b", "c")
SIZES = (1, 100, 1_000, 10_000)


class State(RoutingState, total=False):
    session_id: str
    answer: str


def make_config(total: int, applicable: int | None = None) -> ExperimentsConfig:
    """``total`` experiments; ``applicable`` (default 1 %, at least one) scoped to the graph's agents."""
    applicable = max(1, total // 100) if applicable is None else applicable
    experiments = []
    for i in range(total):
        scope = [AGENTS[i % 3]] if i < applicable else [f"elsewhere-{i % 50}"]
        experiments.append(
            {
                "id": f"exp-{i}",
                "scope": scope,
                "variants": [
                    {"name": "control", "model": "simulated:strong-expensive", "control": True, "weight": 50},
                    {"name": "candidate", "model": "simulated:fast-cheap", "weight": 50},
                ],
            }
        )
    return ExperimentsConfig.model_validate({"experiments": experiments})


def _agent(name: str) -> Any:
    def agent(state: State) -> dict[str, Any]:
        return {"answer": name}

    return agent


def _empty(state: State) -> dict[str, Any]:
    return {}


def build(first: Any) -> Any:
    g = StateGraph(State)
    g.add_node("route", first)
    g.add_edge(START, "route")
    prev = "route"
    for name in AGENTS:
        g.add_node(name, _agent(name))
        g.add_edge(prev, name)
        prev = name
    g.add_edge(prev, END)
    return g.compile()


def per_session(graph: Any, sessions: int) -> tuple[float, int]:
    """(median seconds per new session over 3 batches, bytes of state['routing'] of the last one)."""
    times, size = [], 0
    for _ in range(3):
        ids = [uuid.uuid4().hex for _ in range(max(1, sessions // 3))]
        start = time.perf_counter()
        for sid in ids:
            out = graph.invoke({"session_id": sid})
        times.append((time.perf_counter() - start) / len(ids))
        size = len(json.dumps(out.get("routing", {})))
    return statistics.median(times), size


def reads(admin: redis.Redis) -> int:
    return int(admin.info("stats")["total_reads_processed"])


def row(
    label: str, config: ExperimentsConfig, url: str, admin: redis.Redis, sessions: int, agents: Any
) -> dict[str, Any]:
    start = time.perf_counter()
    memory_node = RoutingNode(config, store=open_store("memory://"), agents=agents)
    built_s = time.perf_counter() - start
    store = open_store(f"{url}?timeout=2&async_timeout=2", prefix=f"scale-{uuid.uuid4().hex[:8]}")
    redis_node = RoutingNode(config, store=store, agents=agents)
    memory_graph, redis_graph = build(memory_node), build(redis_node)
    for graph in (memory_graph, redis_graph):  # warm-up: connections, scripts, cached live states
        graph.invoke({"session_id": "warm-up"})
    mem_s, size = per_session(memory_graph, sessions)
    before = reads(admin)
    red_s, _ = per_session(redis_graph, sessions)
    n = 3 * max(1, sessions // 3)
    trips = (reads(admin) - before - 1) / n  # the INFO call itself is one read
    fallbacks = redis_node.stats()["events"].get("fallback", 0)
    store.close()
    return {
        "label": label,
        "decided": len(memory_node._scope.applicable),
        "memory": mem_s,
        "redis": red_s,
        "trips": trips,
        "bytes": size,
        "built": built_s,
        "fallbacks": fallbacks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args(argv)
    empty = build(_empty)
    for _ in range(100):
        empty.invoke({"session_id": "warm-up"})
    with local_redis(args.redis_url) as url:
        admin = redis.Redis.from_url(url)
        rows = []
        for total in SIZES:
            config = make_config(total)
            rows.append(row(f"{total:,} agents=", config, url, admin, args.sessions, AGENTS))
            slow = max(3, args.sessions // max(1, total // 10))  # 'all' decides every experiment
            rows.append(row(f"{total:,} all", config, url, admin, slow, None))
        rows.append(row("100 of 100 apply", make_config(100, 100), url, admin, args.sessions, AGENTS))
        admin.close()
    base, _ = per_session(empty, args.sessions)
    print(f"routing cost per new session; empty node graph {base * 1e6:.0f} µs/session")
    print(
        f"   {'experiments':<18} {'decided':>7} {'memory µs':>10} {'redis µs':>10} {'redis trips':>11}"
        f" {'routing B':>10} {'node built ms':>13}"
    )
    for r in rows:
        print(
            f"   {r['label']:<18} {r['decided']:>7} {r['memory'] * 1e6:>10.0f} {r['redis'] * 1e6:>10.0f}"
            f" {r['trips']:>11.2f} {r['bytes']:>10} {r['built'] * 1e3:>13.1f}"
            + (f"  ({r['fallbacks']} fallbacks)" if r["fallbacks"] else "")
        )
    print("   (times include the graph; 'redis trips' = server network reads per session; issue 15 measured")
    print("    10,000 experiments at 1.25 s/session on memory, 6.3 s on Redis, 800 KiB in state['routing'])")
    with open("/proc/loadavg") as f:
        print(f"   load average: {f.read().split()[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
