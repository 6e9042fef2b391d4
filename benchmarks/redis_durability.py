"""Redis memory per session and the write time of a long-lived ("hot") unit, beside the earlier layout.

Two figures, each measured on a fresh local redis-server, for this checkout and for a baseline git ref
(``--baseline-ref``, e.g. ``main`` before the packed unit records; run from a ``git archive`` of that ref with
the same venv):

* **bytes per session**: ``--graph-sessions`` sessions of one experiment with one LLM call each run through a
  real LangGraph graph (``RoutingNode`` → ``routed_model`` → simulated model → ``RoutingTelemetry`` →
  ``BufferedObservationWriter`` → Redis), recording what each session wrote; the rest of the ``--sessions``
  (10k and 100k by default) replay those writes for new units through the same stores (``get_or_set`` of the
  assignment, the session's observations with a new unit id and new ids, batches of 500 as the writer sends
  them), which is ~50x faster than the graph and writes the same commands. ``used_memory_dataset`` after
  minus before (client buffers left out), divided by the sessions; the share held by observation ids
  (expired after the dedup window) and by assignment keys is shown too.
* **hot-unit write time**: one unit is given ``--hot-history`` observations (batches of 500, as the writer
  sends them), then 10 more batches are timed *inside Redis*: the longest one write script blocked Redis
  (``SLOWLOG``) and the server time of a whole batch (``INFO commandstats``). The target is ≤ 5 ms at 100k
  observations (issue 15 measured ~0.6 s per batch at 100k on the layout that rewrote a string).

    python -m benchmarks.redis_durability                               # 10k and 100k sessions
    python -m benchmarks.redis_durability --baseline-ref main --sessions 10000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from benchmarks.redis_server import local_redis

ROOT = Path(__file__).resolve().parent.parent
CONFIG = {
    "default_model": {"model": "simulated:strong-expensive"},
    "experiments": [
        {
            "id": "mem-exp",
            "unit": "session",
            "unit_key": "session_id",
            "scope": ["answer"],
            "variants": [
                {"name": "control", "model": "simulated:strong-expensive", "weight": 50, "control": True},
                {"name": "candidate", "model": "simulated:fast-cheap", "weight": 50},
            ],
        }
    ],
}


def _graph(url: str) -> tuple[Any, Any, Any]:
    from typing import TypedDict

    from langchain_core.runnables import RunnableConfig
    from langgraph.graph import END, START, StateGraph

    from routing_agent import RoutingNode, routed_model
    from routing_agent.config.spec import ExperimentsConfig
    from routing_agent.providers.simulated import set_time_scale
    from routing_agent.stores.observations import BufferedObservationWriter, open_observation_store
    from routing_agent.telemetry import RoutingTelemetry

    set_time_scale(0.0)

    class State(TypedDict, total=False):
        session_id: str
        routing: dict[str, Any]
        answer: str

    def answer(state: State, config: RunnableConfig) -> dict[str, Any]:
        reply = routed_model(state, config).invoke("Where is my parcel?")
        return {"answer": str(reply.content)[:10]}

    config = ExperimentsConfig.model_validate(CONFIG)
    node = RoutingNode(config, store=url)
    g = StateGraph(State)
    g.add_node("route", node)
    g.add_node("answer", answer)
    g.add_edge(START, "route")
    g.add_edge("route", "answer")
    g.add_edge("answer", END)
    store = open_observation_store(url)
    writer = BufferedObservationWriter(store, flush_interval_s=0.05)
    telemetry = RoutingTelemetry(observations=writer, config=config)
    return g.compile(), writer, telemetry


class _Recorder:
    """An observation store that forwards every batch and remembers it (per unit)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.by_unit: dict[str, list[Any]] = {}

    def add(self, observations: Any) -> int:
        observations = list(observations)
        for obs in observations:
            self.by_unit.setdefault(obs.unit_id, []).append(obs)
        return int(self.store.add(observations))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _dataset(admin: Any) -> int:
    return int(admin.info("memory")["used_memory_dataset"])


def _usage(admin: Any, pattern: str) -> int:
    return sum(int(admin.memory_usage(k, samples=0) or 0) for k in admin.scan_iter(match=pattern, count=1000))


def bytes_per_session(url: str, sessions: int, graph_sessions: int = 1000) -> dict[str, Any]:
    """Run ``graph_sessions`` one-call sessions through the graph, replay them up to ``sessions``; the Redis
    memory they added, per session (``graph``: the graph's sessions alone)."""
    from dataclasses import replace

    from routing_agent.stores.assignments import open_store

    admin = redis.Redis.from_url(url)
    graph, writer, telemetry = _graph(url)
    recorder = _Recorder(writer.store)
    writer.store = recorder
    run = {"callbacks": [telemetry]}
    graph.invoke({"session_id": "warm-up"}, run)  # loads the scripts, creates the experiment's fixed keys
    writer.flush(30)
    before = _dataset(admin)
    rng = random.Random(11)
    graph_sessions = min(graph_sessions, sessions)
    started = time.perf_counter()
    for i in range(graph_sessions):
        graph.invoke({"session_id": f"session-{i:08d}-{rng.getrandbits(32):08x}"}, run)
    writer.flush(60)
    graph_s = time.perf_counter() - started
    writer.close(60)
    after_graph = _dataset(admin)
    templates = [obs for unit, obs in recorder.by_unit.items() if unit != "warm-up"]
    assignments = open_store(url + "?timeout=10")  # a replay, not a routing decision: wait out the load
    variants = ("control", "candidate")
    pending: list[Any] = []
    for i in range(graph_sessions, sessions):
        unit = f"session-{i:08d}-{rng.getrandbits(32):08x}"
        template = templates[i % len(templates)]
        variant, _ = assignments.get_or_set("mem-exp", unit, variants[i % 2])
        pending += [replace(o, unit_id=unit, variant=variant, id=f"{o.id}-r{i}") for o in template]
        if len(pending) >= 500:
            recorder.store.add(pending)
            pending = []
    if pending:
        recorder.store.add(pending)
    assignments.close()
    recorder.store.close()
    after = _dataset(admin)
    ids = _usage(admin, "*:o:ids*")
    units = _usage(admin, "*{exp:mem-exp}:a:u:*")
    ttl_less = sum(1 for k in admin.scan_iter(match="*{exp:mem-exp}*", count=1000) if admin.pttl(k) == -1)
    keys = sum(1 for _ in admin.scan_iter(match="*{exp:mem-exp}*", count=1000))
    admin.close()
    per_graph = (after_graph - before) / graph_sessions
    return {"sessions": sessions, "bytes_per_session": (after - before) / sessions,
            "graph_sessions": graph_sessions, "graph_bytes_per_session": per_graph, "graph_s": graph_s,
            "ids_per_session": ids / sessions, "assignments_per_session": units / sessions,
            "observations_per_session": sum(len(t) for t in templates) / len(templates),
            "keys": keys, "keys_without_ttl": ttl_less}  # fmt: skip


def hot_unit(url: str, history: int, batch: int = 500) -> dict[str, Any]:
    """Server time of a write batch once one unit holds ``history`` observations."""
    from routing_agent.stores.observations import Observation, open_observation_store

    store = open_observation_store(url + ("&" if "?" in url else "?") + "prefix=hot")
    rng = random.Random(7)
    n = 0

    def batch_of(size: int) -> list[Any]:
        nonlocal n
        out = []
        for _ in range(size):
            n += 1
            out.append(Observation("hot-exp", "control", "hot-unit", "latency_s", rng.lognormvariate(0, 1),
                                   agent="answer", id=f"o{n}"))  # fmt: skip
        return out

    started = time.perf_counter()
    while n < history:
        store.add(batch_of(min(batch, history - n)))
    fill_s = time.perf_counter() - started
    admin = redis.Redis.from_url(url)
    # Scripts' inner commands are logged too: log only what took >= 0.2 ms (no single command does), so
    # the slowlog holds the slow scripts; commandstats gives the calls and their total time.
    admin.config_set("slowlog-log-slower-than", 200)
    admin.config_set("slowlog-max-len", 1024)
    admin.slowlog_reset()
    admin.config_resetstat()
    for _ in range(10):
        store.add(batch_of(batch))
    stats = admin.info("commandstats")
    scripts = stats.get("cmdstat_evalsha", {"calls": 0, "usec": 0})
    slow = [
        e for e in admin.slowlog_get(1024) if e["command"].split(b" ")[0].upper() in (b"EVALSHA", b"EVAL")
    ]
    admin.config_set("slowlog-log-slower-than", 10000)
    admin.close()
    store.close()
    worst_us = max([int(e["duration"]) for e in slow] or [int(scripts["usec_per_call"] or 0)])
    total_ms, calls = int(scripts["usec"]) / 10 / 1000, int(scripts["calls"]) / 10
    return {"history": history, "batch": batch, "worst_batch_ms": worst_us / 1000, "fill_s": fill_s,
            "batch_total_ms": total_ms, "calls_per_batch": calls}  # fmt: skip


def measure(sessions: list[int], history: int, graph_sessions: int = 1000) -> dict[str, Any]:
    """Both figures on fresh servers (``$REDIS_URL`` is ignored: memory must be this run's alone)."""
    os.environ.pop("REDIS_URL", None)
    memory = []
    for n in sessions:
        with local_redis() as url:
            memory.append(bytes_per_session(url, n, graph_sessions))
    with local_redis() as url:
        hot = hot_unit(url, history)
    return {"memory": memory, "hot": hot}


def baseline(ref: str, sessions: list[int], history: int, graph_sessions: int) -> dict[str, Any]:
    """``measure`` run on the code of git ``ref`` (extracted to a temporary folder, same venv)."""
    with tempfile.TemporaryDirectory(prefix="ra-baseline-") as tmp:
        archive = Path(tmp) / "src.tar"
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", "-o", str(archive), ref, "routing_agent"], check=True
        )
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([tmp, str(ROOT)])}
        code = (
            "import json, sys; from benchmarks.redis_durability import measure; "
            f"print(json.dumps(measure({sessions!r}, {history}, {graph_sessions})))"
        )
        cmd = [sys.executable, "-c", code]
        out = subprocess.run(cmd, check=False, env=env, cwd=tmp, capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"baseline run failed:\n{out.stderr[-2000:]}")
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def report(runs: list[tuple[str, dict[str, Any]]]) -> None:
    """Print the figures of each run side by side."""
    print("Redis bytes per session (one experiment, one LLM call; used_memory_dataset delta / sessions)")
    for name, run in runs:
        for m in run["memory"]:
            print(
                f"  {name:>12} {m['sessions']:>7,} sessions: {m['bytes_per_session']:6.0f} B "
                f"(graph alone, {m['graph_sessions']:,} sessions: {m['graph_bytes_per_session']:.0f} B; "
                f"assignment keys {m['assignments_per_session']:.0f} B, observation ids "
                f"{m['ids_per_session']:.0f} B, {m['observations_per_session']:.0f} observations/session); "
                f"{m['keys_without_ttl']:,} of {m['keys']:,} keys without TTL"
            )
    print("  issue 15 measured 4.2 KB per session on the layout before its retention work; target <= 1 KB")
    print("Hot unit: longest one write script blocks Redis (SLOWLOG), 500-observation writes")
    for name, run in runs:
        h = run["hot"]
        print(
            f"  {name:>12}: {h['worst_batch_ms']:7.2f} ms at {h['history']:,} observations of one unit "
            f"({h['calls_per_batch']:.0f} script(s) per write, {h['batch_total_ms']:.1f} ms in all, "
            f"{h['batch_total_ms'] / max(h['calls_per_batch'], 1):.2f} ms mean per script)"
        )
    print(
        "  issue 15 measured ~600 ms at 100,000 on the string layout; target <= 5 ms (SLOWLOG is wall time:"
    )
    print("  on a loaded machine the worst script includes the time Redis was descheduled; see the mean)")
    load = Path("/proc/loadavg")
    print(f"  load average at the end: {' '.join(load.read_text().split()[:3]) if load.exists() else '?'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--graph-sessions", type=int, default=1000,
                        help="sessions run through the graph; the rest replay their writes")  # fmt: skip
    parser.add_argument("--hot-history", type=int, default=100_000)
    parser.add_argument("--baseline-ref", default=None, help="git ref of the layout to compare with")
    args = parser.parse_args()
    runs = [("this layout", measure(args.sessions, args.hot_history, args.graph_sessions))]
    if args.baseline_ref:
        old = baseline(args.baseline_ref, args.sessions, args.hot_history, args.graph_sessions)
        runs.append((args.baseline_ref, old))
    report(runs)


if __name__ == "__main__":
    main()
