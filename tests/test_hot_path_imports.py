"""The hot path stays lean: what a graph needs imports no statistics, schema, CLI or terminal library.

Every worker start, autoscaled pod and serverless cold start pays these imports, so a fresh interpreter
that imports the graph-facing names, builds and runs a routed graph on the SQLite store with telemetry
installed must never have loaded scipy, numpy, statsmodels, jsonschema, typer or rich (nor our CLI). The
rest of the public surface is imported lazily, on first use.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import routing_agent

HEAVY = ("scipy", "numpy", "statsmodels", "jsonschema", "typer", "rich", "routing_agent.cli")
STUB = Path(routing_agent.__file__).with_suffix(".pyi")


def hot_path_names() -> list[str]:
    """The public names a graph needs: all from ``routing_agent.graph`` (but the prebuilt-agent helpers, which
    import langchain.agents: see the test of their own), plus the loader and telemetry."""
    names = {"instrument", "instrumented", "load_experiments"}
    for node in ast.walk(ast.parse(STUB.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "graph":
            names.update(alias.name for alias in node.names if node.module != "graph.agents")
    return sorted(names)


def _fresh_interpreter(program: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", program], check=False, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


REPORT = (
    "import json, sys\n"
    f"print(json.dumps({{'heavy': [m for m in {HEAVY!r} if m in sys.modules],"
    " 'routing_agent': sorted(m for m in sys.modules if m.startswith('routing_agent'))}))"
)


def test_import_routing_agent_loads_nothing_but_the_package() -> None:
    result = _fresh_interpreter("import routing_agent\n" + REPORT)
    assert result["heavy"] == []
    assert result["routing_agent"] == ["routing_agent"]


def test_hot_path_names_import_no_heavy_module() -> None:
    names = hot_path_names()
    assert {"RoutingNode", "routed_model", "instrument", "load_experiments"} <= set(names)
    result = _fresh_interpreter(f"from routing_agent import {', '.join(names)}\n" + REPORT)
    assert result["heavy"] == []


def test_prebuilt_agent_names_add_no_heavy_module() -> None:
    # RoutingMiddleware and routed_agent_model import langchain.agents, which (through httpx) loads rich when
    # it is installed: what langchain.agents loads by itself is the baseline, and our code adds nothing to it.
    program = (
        "import sys\nimport langchain.agents, opentelemetry.sdk.trace\nbaseline = set(sys.modules)\n"
        "from routing_agent import RoutingMiddleware, routed_agent_model\n"
    )
    result = _fresh_interpreter(
        program + REPORT.replace("in sys.modules]", "in set(sys.modules) - baseline]")
    )
    assert result["heavy"] == []
    assert "routing_agent.graph.agents" in result["routing_agent"]


def test_running_a_routed_instrumented_graph_imports_no_heavy_module(tmp_path: Path) -> None:
    # LangGraph itself imports httpx, which imports rich when it is installed: what the bare libraries load
    # is the baseline, and our code must add none of the heavy modules to it.
    program = f"""
import sys
import langgraph.graph, langchain_core.language_models.chat_models, opentelemetry.sdk.trace
baseline = set(sys.modules)
from typing import Any
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from routing_agent import RoutingNode, RoutingState, instrumented, load_experiments, routed_model
from importlib.resources import files

class State(RoutingState, total=False):
    session_id: str
    answer: str

def drafter(state: State, config: RunnableConfig) -> dict[str, Any]:
    return {{"answer": routed_model(state, config).invoke("hello").text}}

experiments = load_experiments(str(files('routing_agent.configs') / 'support.yaml'))
graph = StateGraph(State)
graph.add_node("route", RoutingNode(experiments, store={str(tmp_path / "a.sqlite3")!r}))
graph.add_node("drafter", drafter)
graph.add_edge(START, "route")
graph.add_edge("route", "drafter")
graph.add_edge("drafter", END)
app = graph.compile()
with instrumented(config=experiments, observations="sqlite:///{tmp_path / "o.sqlite3"}"):
    out = app.invoke({{"session_id": "s-1"}})
assert out["answer"] and out["routing"], out
"""
    result = _fresh_interpreter(
        program + REPORT.replace("in sys.modules]", "in set(sys.modules) - baseline]")
    )
    assert result["heavy"] == []
    assert "routing_agent.graph.node" in result["routing_agent"]  # the graph really ran through our code
