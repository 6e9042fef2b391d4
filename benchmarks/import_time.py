"""Import time of the hot path, side by side with the libraries it stands on, in one run.

Every worker start, autoscaled pod and serverless cold start pays the import of what a graph needs:
``from routing_agent import RoutingNode, routed_model, instrument, load_experiments`` (plus the agent
middleware where it exists). The peer is the bare import of what any LangGraph app with OTel pays anyway:
LangGraph's ``StateGraph``, langchain-core's chat-model base and the OTel SDK (traces and metrics). "Ours" is
the peer's imports plus our hot path — what such an app pays once it routes — so the ratio is exactly the
share we add. Target: ours ≤ 1.15× the peer.

Each sample is a fresh interpreter (``python -c``) that times its own imports with ``perf_counter`` (so the
interpreter's start-up, the same for both, is left out); ours and the peer alternate so a busy neighbour
slows both alike. The figure is the median over ``--repeats`` samples of each.

    python -m benchmarks.import_time [--repeats 15]
"""

from __future__ import annotations

import argparse
import ast
import statistics
import subprocess
import sys
from pathlib import Path

PEER = (
    "import langgraph.graph, langchain_core.language_models.chat_models, "
    "opentelemetry.sdk.trace, opentelemetry.sdk.metrics"
)
"""What a LangGraph app with OTel imports anyway."""


def hot_path_names() -> list[str]:
    """What a graph needs: every public name from ``routing_agent.graph`` (the routing node, state,
    ``routed_model``, the agent middleware, …) plus the config loader and telemetry installer."""
    stub = Path(__file__).resolve().parents[1] / "routing_agent" / "__init__.pyi"
    names = {"instrument", "load_experiments"}
    for node in ast.walk(ast.parse(stub.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "graph":
            names.update(alias.name for alias in node.names)
    return sorted(names)


HOT_PATH = hot_path_names()
OURS = f"{PEER}\nfrom routing_agent import {', '.join(HOT_PATH)}"

HEAVY = ("scipy", "numpy", "statsmodels", "jsonschema", "typer", "rich")


def _sample(code: str) -> tuple[float, list[str]]:
    """Seconds the imports in ``code`` take in a fresh interpreter, and the heavy modules they loaded."""
    program = (
        "import sys, time\n"
        "_t0 = time.perf_counter()\n"
        f"{code}\n"
        "_dt = time.perf_counter() - _t0\n"
        f"print(_dt, *[m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), out[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    _sample(OURS)  # warm the file-system cache and the .pyc files of both
    _sample(PEER)
    ours: list[float] = []
    peer: list[float] = []
    heavy: set[str] = set()
    for _ in range(args.repeats):
        seconds, loaded = _sample(OURS)
        ours.append(seconds)
        heavy.update(loaded)
        seconds, loaded = _sample(PEER)
        peer.append(seconds)
        heavy.difference_update(loaded)  # e.g. LangGraph → httpx → rich: the peer's own, not ours
    ours_s, peer_s = statistics.median(ours), statistics.median(peer)
    ratio = ours_s / peer_s
    print(f"import time, median of {args.repeats} fresh interpreters each (Python {sys.version.split()[0]})")
    print(f"  ours  the peer + routing_agent hot path ({', '.join(HOT_PATH)}): {ours_s * 1000:7.1f} ms")
    print(f"  peer  LangGraph + langchain-core + OTel SDK:          {peer_s * 1000:7.1f} ms")
    print(f"  ratio {ratio:.2f}× (target ≤ 1.15×: {'met' if ratio <= 1.15 else 'MISSED'})")
    print(f"  heavy modules the hot path adds to the peer's: {', '.join(sorted(heavy)) or 'none'}")


if __name__ == "__main__":
    main()
