"""The demo / simulate pipeline: named steps over one shared context.

``routing-agent demo`` and ``routing-agent simulate`` run ``default_pipeline()``: prepare → build → run →
summarize → close. Other parts plug in as steps without touching these: telemetry adds its callback
handler to ``ctx.callbacks`` before ``run``; scorers add per-session observers to ``ctx.observers``; the
evaluator adds a step after ``run`` that reads the store and writes its decision and report, listing the
files in ``ctx.outputs`` so ``summarize`` prints them::

    pipeline = default_pipeline()
    pipeline.insert_after("run", Step("evaluate", my_evaluate))
"""

from __future__ import annotations

__all__ = ["Pipeline", "SimulationContext", "Step"]

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import BaseCallbackHandler
from rich.console import Console

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.simulation.runner import RunSummary, SessionResult

if TYPE_CHECKING:
    from routing_agent.graph.node import RoutingNode
    from workflows.base import WorkflowSpec


@dataclass
class SimulationContext:
    """Everything the steps share: inputs first, then what the steps produce."""

    workflow: WorkflowSpec
    config: ExperimentsConfig
    config_path: Path
    store: str
    """Assignment store URL or SQLite path."""
    workdir: Path
    sessions: int
    workers: int = 16
    seed: int = 0
    time_scale: float = 0.001
    console: Console = field(default_factory=Console)
    progress: bool = True
    session_prefix: str = "s"
    graph: Any = None
    routing: RoutingNode | None = None
    callbacks: list[BaseCallbackHandler] = field(default_factory=list)
    """Callback handlers passed to every session's ``graph.invoke`` (e.g. telemetry)."""
    observers: list[Callable[[SessionResult], None]] = field(default_factory=list)
    """Called with each finished session (outcome writer, scorers, …)."""
    summary: RunSummary | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    """What the run wrote, label → path; printed by ``summarize``."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Room for steps added by other modules (their own results)."""


@dataclass(frozen=True)
class Step:
    """A named step of the pipeline."""

    name: str
    run: Callable[[SimulationContext], None]


class Pipeline:
    """An ordered list of steps; insert, replace or remove steps by name before running it."""

    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps: list[Step] = list(steps)

    def names(self) -> list[str]:
        """Step names in order."""
        return [s.name for s in self.steps]

    def _index(self, name: str) -> int:
        names = self.names()
        if name not in names:
            raise KeyError(f"no step '{name}' (steps: {', '.join(names)})")
        return names.index(name)

    def insert_after(self, name: str, step: Step) -> None:
        """Add ``step`` right after the step called ``name``."""
        self.steps.insert(self._index(name) + 1, step)

    def insert_before(self, name: str, step: Step) -> None:
        """Add ``step`` right before the step called ``name``."""
        self.steps.insert(self._index(name), step)

    def replace(self, name: str, step: Step) -> None:
        """Swap the step called ``name`` for ``step``."""
        self.steps[self._index(name)] = step

    def remove(self, name: str) -> None:
        """Drop the step called ``name``."""
        del self.steps[self._index(name)]

    def run(self, ctx: SimulationContext) -> SimulationContext:
        """Run every step in order; the ``close`` step (if any) runs even when a step raises."""
        try:
            for step in self.steps:
                if step.name != "close":
                    step.run(ctx)
        finally:
            for step in self.steps:
                if step.name == "close":
                    step.run(ctx)
        return ctx
