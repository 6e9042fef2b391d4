"""``routing-agent watch``: the watch loop from the command line, one experiment per process.

The evaluation is the built-in evaluator by default, or ``--evaluator module:function`` — any function
``f(spec, observations) -> Decision`` (``observations`` is the open observation store; a function that also
takes an ``assignments`` keyword gets the assignment store, e.g. for per-variant counts), for teams with
their own decision rules. ``--every-n`` counts newly observed units (the observation store's
``counts_by_variant``).
"""

from __future__ import annotations

__all__ = ["load_evaluator", "watch"]

import importlib
import inspect
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from routing_agent.cli._common import (
    ConfigOption,
    ObservationsOption,
    StoreOption,
    cli_errors,
    fail,
    load_config,
    open_run_stores,
    parse_duration,
    resolve_specs,
)
from routing_agent.config.spec import ExperimentSpec
from routing_agent.control.ticks import TickAction, WatchTick
from routing_agent.control.watch import Watcher, WatchSettings
from routing_agent.evaluation.decision import Decision

SpecEvaluator = Callable[..., Decision]  # f(spec, observations[, assignments=store]) -> Decision

_STYLE = {
    TickAction.ROLLED_BACK: "bold red",
    TickAction.SHIPPED: "bold cyan",
    TickAction.REVIEW_REQUESTED: "bold yellow",
    TickAction.REVIEW_PENDING: "yellow",
    TickAction.ERROR: "red",
    TickAction.SKIPPED: "yellow",
    TickAction.TERMINAL: "bold",
}


def load_evaluator(ref: str | None) -> SpecEvaluator:
    """``module:function`` imported, or the built-in evaluator; ``ValueError`` says what is wrong."""
    if ref is None:
        from routing_agent.evaluation.watching import WatchEvaluator

        return WatchEvaluator()  # chains the always-valid tests from tick to tick
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--evaluator {ref!r}: write module:function, e.g. my_team.rules:evaluate")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"--evaluator {ref!r} cannot be loaded: {exc}") from None
    if not callable(fn):
        raise ValueError(f"--evaluator {ref!r} is not callable")
    custom: SpecEvaluator = fn
    return custom


def _takes_assignments(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "assignments" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def watch(  # noqa: PLR0917 (one parameter per CLI option)
    config: ConfigOption,
    store: StoreOption,
    observations: ObservationsOption = None,
    experiment: Annotated[str | None, typer.Option("--experiment", "-e", help="Experiment id.")] = None,
    every: Annotated[str, typer.Option(help="Evaluate at least this often: 30s, 5m, 1h.")] = "30s",
    every_n: Annotated[
        int | None, typer.Option("--every-n", help="Also evaluate once this many new units were observed.")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Evaluate and act once, then exit.")] = False,
    evaluator: Annotated[
        str | None, typer.Option(help="module:function(spec, observations) -> Decision (default: built-in).")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Recorded actor (default: watch@host:pid).")] = None,
    review_cooldown: Annotated[
        str, typer.Option(help="Do not re-queue a winner rejected this recently.")
    ] = "24h",
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per evaluation.")] = False,
) -> None:
    """Evaluate every --every (or --every-n new units) and act: roll back, queue for review, or ship.

    A guardrail breach rolls back at once; a ship waits in the review queue when the YAML says
    review: required, else ships. The loop ends when the experiment is rolled back, shipped or stopped.
    """
    console = Console(soft_wrap=True, highlight=False)

    def show(tick: WatchTick) -> None:
        if json_output:
            console.out(json.dumps(tick.to_json(), ensure_ascii=False), highlight=False)
        else:
            console.print(Text(tick.line(), style=_STYLE.get(tick.action, "")))

    with cli_errors(store):
        cfg = load_config(config)
        assert cfg is not None
        (spec,) = resolve_specs(cfg, experiment)
        assert isinstance(spec, ExperimentSpec)
        every_s = parse_duration(every)
        cooldown_s = parse_duration(review_cooldown)
        evaluate_with = load_evaluator(evaluator)
    assignments, obs = open_run_stores(store, observations, spec.id)  # reachable: a clear error, not a tick
    extra = {"assignments": assignments} if _takes_assignments(evaluate_with) else {}

    def evaluate(s: ExperimentSpec) -> Decision:
        return evaluate_with(s, obs, **extra)

    settings = WatchSettings(every_s=every_s, every_n=every_n, actor=actor, review_cooldown_s=cooldown_s)
    watcher = Watcher(
        spec,
        assignments,
        evaluate,
        settings,
        observation_count=lambda: sum(obs.counts_by_variant(spec.id).values()),
        on_tick=show,
    )
    quiet = logging.NullHandler()  # each tick is printed by ``show``: never a second copy on stderr
    control_log = logging.getLogger("routing_agent.control")
    control_log.addHandler(quiet)
    try:
        last = watcher.run(once=once)
    except KeyboardInterrupt:
        raise fail("watch interrupted; nothing was left half-applied (every change is atomic)", 130) from None
    finally:
        control_log.removeHandler(quiet)
        obs.close()
        assignments.close()
    if last.action is TickAction.ERROR:
        raise typer.Exit(1)  # the last evaluation failed (see the line above)
