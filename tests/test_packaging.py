"""The package's shape: what the wheel ships, and how its sub-packages may depend on one another.

* ``pyproject.toml`` lists every package folder (``routing_agent/**``, and ``workflows/**`` and ``configs/``,
  which install as ``routing_agent.workflows`` and ``routing_agent.configs``), so nothing a user needs is
  left out of the wheel; the wheel itself is built, installed and run by ``.ci/run``.
* The CLI is a leaf: no library package imports ``routing_agent.cli``, nor typer (kept off the hot path).
* No import cycle between sub-packages at import time (module-level imports).
"""

from __future__ import annotations

import ast
import tomllib
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"routing_agent": ROOT / "routing_agent"} | {
    f"routing_agent.{name}": ROOT / name for name in ("workflows", "configs")
}
"""Package name → source folder (the package-dir mapping of pyproject.toml)."""


def _modules() -> Iterator[tuple[str, Path]]:
    """(dotted module name, file) for every module the wheel ships."""
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join((package, *parts)), path


def _sub_package(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def _imports(
    path: Path, *, module_level: bool, prefix: tuple[str, ...] = ("routing_agent",)
) -> Iterator[str]:
    """Absolute imports of ``prefix`` packages in a file (outside ``if TYPE_CHECKING:`` blocks)."""
    tree = ast.parse(path.read_text())
    nodes: list[ast.stmt] = list(tree.body)
    if not module_level:
        nodes = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    for node in nodes:
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        yield from (name for name in names if name.split(".")[0] in prefix)


def test_pyproject_lists_every_package_folder() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == {
        name: str(folder.relative_to(ROOT)) for name, folder in SOURCES.items() if name != "routing_agent"
    }
    found = set()
    for package, folder in SOURCES.items():
        for init in folder.rglob("__init__.py"):
            found.add(".".join((package, *init.parent.relative_to(folder).parts)))
        for data in folder.rglob("data"):  # a workflow's dataset folder ships as package data
            if data.is_dir() and any(data.glob("*.jsonl")):
                found.add(".".join((package, *data.relative_to(folder).parts)))
    assert sorted(setuptools["packages"]) == sorted(found)


def test_no_library_package_imports_the_cli_or_typer() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for module, path in _modules()
        if _sub_package(module) != "cli"
        for name in _imports(path, module_level=False, prefix=("routing_agent", "typer"))
        if _sub_package(name) == "cli" or name.split(".")[0] == "typer"
    ]
    assert offenders == []


def test_no_import_cycle_between_sub_packages() -> None:
    edges: dict[str, dict[str, str]] = defaultdict(dict)
    for module, path in _modules():
        for name in _imports(path, module_level=True):
            source, target = _sub_package(module), _sub_package(name)
            if source and target and source != target:
                edges[source].setdefault(target, str(path.relative_to(ROOT)))
    cycles = []
    for source, targets in edges.items():
        for target, where in targets.items():
            back = edges.get(target, {}).get(source)
            if back is not None and source < target:
                cycles.append(f"{source} <-> {target} ({where}; {back})")

    # longer cycles: every package reachable from itself through others
    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(edges.get(start, {}))
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(edges.get(node, {}))
        return seen

    looped = sorted(p for p in edges if p in reach(p))
    assert cycles == [] and looped == [], (cycles, looped)
