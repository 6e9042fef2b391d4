"""``routing-agent demo`` and ``routing-agent simulate``: a whole workflow run offline, end to end.

``demo()`` runs the support-triage workflow on the embedded default — a SQLite store file in a working
directory and simulated models — and prints the assignment counts and where everything was written.
``simulate()`` does the same for any reference workflow and config, against any store URL.
"""

from __future__ import annotations

__all__ = ["DEFAULT_DEMO_SESSIONS", "demo", "simulate", "workflow_for"]

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.errors import ConfigError
from routing_agent.simulation.pipeline import Pipeline, SimulationContext
from routing_agent.simulation.steps import default_pipeline

if TYPE_CHECKING:
    from workflows.base import WorkflowSpec

DEFAULT_DEMO_SESSIONS = 3000
STORE_FILE = "assignments.sqlite3"


def workflow_for(config: ExperimentsConfig, path: Path, name: str | None = None) -> WorkflowSpec:
    """The reference workflow a config is for: ``name``, else the one whose default config has this file
    name, else the one whose agents cover every agent the config names."""
    from workflows import WORKFLOWS, get_workflow

    if name is not None:
        return get_workflow(name)
    specs = [get_workflow(n) for n in WORKFLOWS]
    for spec in specs:
        if spec.default_config.name == path.name:
            return spec
    named = set(config.agents) | {a for exp in config.experiments for a in exp.scope}
    matches = [spec for spec in specs if named and named <= set(spec.agents)]
    if len(matches) == 1:
        return matches[0]
    raise ConfigError(
        f"cannot tell which workflow '{path}' is for (agents: {', '.join(sorted(named)) or 'none'}). "
        f"Pass --workflow ({', '.join(WORKFLOWS)})."
    )


def _load(path: Path) -> ExperimentsConfig:
    from routing_agent.config.loader import load_experiments

    return load_experiments(path)


def simulate(
    config_path: Path,
    *,
    workflow: str | None = None,
    sessions: int = 1000,
    workers: int = 16,
    store: str | None = None,
    workdir: Path = Path("routing-agent-simulate"),
    seed: int = 0,
    time_scale: float = 0.001,
    fresh: bool = False,
    console: Console | None = None,
    progress: bool = True,
    pipeline: Pipeline | None = None,
) -> SimulationContext:
    """Run ``sessions`` sessions of a reference workflow under ``config_path`` and summarize them.

    ``store`` is any assignment store URL (default: a SQLite file in ``workdir``); ``fresh`` deletes that
    default file first. Returns the pipeline's context (summary, outputs) for callers and tests.
    """
    config = _load(config_path)
    spec = workflow_for(config, config_path, workflow)
    workdir.mkdir(parents=True, exist_ok=True)
    if store is None:
        store_path = workdir / STORE_FILE
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{store_path}{suffix}").unlink(missing_ok=True)
        store = str(store_path)
    ctx = SimulationContext(
        workflow=spec,
        config=config,
        config_path=config_path,
        store=store,
        workdir=workdir,
        sessions=sessions,
        workers=workers,
        seed=seed,
        time_scale=time_scale,
        console=console or Console(),
        progress=progress,
    )
    return (pipeline or default_pipeline()).run(ctx)


def demo(
    *,
    sessions: int = DEFAULT_DEMO_SESSIONS,
    workdir: Path = Path("routing-agent-demo"),
    config_path: Path | None = None,
    workers: int = 16,
    seed: int = 0,
    time_scale: float = 0.001,
    console: Console | None = None,
    progress: bool = True,
    pipeline: Pipeline | None = None,
) -> SimulationContext:
    """The main job offline: support triage, control vs candidate, on a fresh SQLite store in ``workdir``."""
    from workflows import get_workflow

    path = config_path or get_workflow("support").default_config
    if not path.exists():
        raise ConfigError(f"the demo config '{path}' does not exist; run from a clone or pass --config")
    console = console or Console()
    console.print(
        f"[bold]routing-agent demo[/]: {sessions} support sessions, simulated models, "
        f"SQLite store in [cyan]{workdir}[/], config [cyan]{path}[/]",
        soft_wrap=True,
    )
    return simulate(
        path,
        workflow="support",
        sessions=sessions,
        workers=workers,
        workdir=workdir,
        seed=seed,
        time_scale=time_scale,
        fresh=True,
        console=console,
        progress=progress,
        pipeline=pipeline,
    )
