"""The public surface changes only on purpose: this list is the contract users import from.

The package derives ``__all__`` from ``routing_agent/__init__.pyi`` (one line per name, what type checkers
read too) and imports each name on first use; this test pins the list and checks that the stub, ``__all__``,
``dir()`` and the objects themselves agree.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import routing_agent

PUBLIC = [
    "Assignment",
    "AssignmentStore",
    "ConfigError",
    "ConfigIssue",
    "Decision",
    "DecisionKind",
    "Evaluation",
    "ExperimentNotFound",
    "ExperimentSpec",
    "ExperimentState",
    "ExperimentStatus",
    "ExperimentsConfig",
    "MissingDependency",
    "ModelResolutionError",
    "Observation",
    "ObservationStore",
    "Reason",
    "ReloadResult",
    "ReviewQueue",
    "Rollout",
    "Routing",
    "RoutingAgentError",
    "RoutingMiddleware",
    "RoutingNode",
    "RoutingState",
    "RoutingTelemetry",
    "ScoringNode",
    "ShadowRunner",
    "StateTransitionError",
    "StoreError",
    "StoreUnavailable",
    "Watcher",
    "arecord_outcome",
    "arouted_model",
    "build_scorers",
    "catalog",
    "check_experiments",
    "configure_exporters",
    "evaluate",
    "inherited_routing",
    "instrument",
    "instrumented",
    "load_experiments",
    "load_experiments_from_string",
    "open_observation_store",
    "open_store",
    "record_outcome",
    "routed_agent_model",
    "routed_model",
    "score_records",
    "uninstrument",
    "write_report",
]


def test_public_names_are_pinned_and_sorted() -> None:
    assert routing_agent.__all__ == PUBLIC
    assert sorted(PUBLIC) == PUBLIC
    for name in PUBLIC:
        assert getattr(routing_agent, name) is not None


def test_the_stub_is_the_surface_and_each_name_is_its_real_object() -> None:
    stub = Path(routing_agent.__file__).with_suffix(".pyi")
    lines = [n for n in ast.parse(stub.read_text()).body if isinstance(n, ast.ImportFrom)]
    names = []
    for line in lines:
        assert line.level == 1 and line.module, ast.unparse(line)  # `from .module import Name as Name`
        for alias in line.names:
            assert alias.asname == alias.name, ast.unparse(line)  # re-exported under its own name
            real = getattr(__import__(f"routing_agent.{line.module}", fromlist=["_"]), alias.name)
            assert getattr(routing_agent, alias.name) is real
            names.append(alias.name)
    assert sorted(names) == PUBLIC and sorted(dir(routing_agent)) == PUBLIC


def test_public_names_import_lazily() -> None:
    code = (
        "import sys, routing_agent\n"
        "assert 'routing_agent.evaluation' not in sys.modules\n"
        "routing_agent.evaluate\n"
        "assert 'routing_agent.evaluation.evaluator' in sys.modules and 'evaluate' in vars(routing_agent)\n"
        "routing_agent.nope"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert out.returncode == 1 and "AttributeError" in out.stderr and "nope" in out.stderr, out.stderr


def test_readme_documents_every_public_name() -> None:
    """README's API is the supported surface: a name it never mentions is not public."""
    readme = (Path(routing_agent.__file__).parents[1] / "README.md").read_text()
    assert [name for name in PUBLIC if not re.search(rf"\b{name}\b", readme)] == []
