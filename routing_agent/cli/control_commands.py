"""The operator's commands: ``status``, ``rollback``, ``pause``, ``resume``, ``stop``, ``ship``, ``review``,
``watch``.

Each is a thin shell over ``Rollout``, ``ReviewQueue``, ``experiment_status`` and ``Watcher``;
``register(app)`` adds them to the ``routing-agent`` typer app. Every command takes ``--store`` (any store
URL: ``memory://``, a SQLite path, ``sqlite:///…``, ``redis://…``; or ``$ROUTING_AGENT_STORE``) and exits 0
(done or no-op), 1 (refused by the rules) or 2 (cannot run: unknown experiment/review, unreachable store,
bad config).
"""

from __future__ import annotations

__all__ = ["register", "review_app"]

import json
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from routing_agent.cli._common import (
    cli_errors,
    load_config,
    open_control_store,
    resolve_specs,
)
from routing_agent.cli.control_render import print_change, print_review, print_reviews, print_status
from routing_agent.control.review import ReviewOutcome, ReviewQueue
from routing_agent.control.rollout import Action, Rollout, cli_actor, describe_segment
from routing_agent.control.status import experiment_status
from routing_agent.stores.reviews import ReviewStatus, review_store_for

Store = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="ROUTING_AGENT_STORE",
        help="Store URL: a SQLite path, sqlite:///x.db, redis://host:6379/0, memory://.",
    ),
]
Experiment = Annotated[str | None, typer.Option("--experiment", "-e", help="Experiment id.")]
ConfigPath = Annotated[Path | None, typer.Option("--config", "-c", help="Experiments YAML (file or folder).")]
Actor = Annotated[str | None, typer.Option("--actor", help="Who makes the change (default: $USER).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]

review_app = typer.Typer(help="The human-review queue: list, show, approve, reject.", no_args_is_help=True)


def _console() -> Console:
    return Console(soft_wrap=True, highlight=False)


def _out(data: Any, console: Console) -> None:
    console.out(json.dumps(data, indent=2, ensure_ascii=False), highlight=False)


def status(
    store: Store,
    experiment: Experiment = None,
    config: ConfigPath = None,
    history: Annotated[int, typer.Option(help="History entries to show (0 = all).")] = 20,
    json_output: Json = False,
) -> None:
    """Live state, counts per variant, pending reviews and the audit trail of an experiment."""
    console = _console()
    with cli_errors(store):
        cfg = load_config(config)
        targets = resolve_specs(cfg, experiment, many=True)
        with closing(open_control_store(store)) as assignments:
            reviews = review_store_for(assignments)
            snaps = [experiment_status(assignments, t, reviews=reviews) for t in targets]
    if json_output:
        _out([s.to_json() for s in snaps] if len(snaps) > 1 else snaps[0].to_json(), console)
        return
    for i, snap in enumerate(snaps):
        if i:
            console.print()
        print_status(snap, console, history=history)


def _change(
    action: Action, store: str, experiment: str | None, config: Path | None, *, reason: str, actor: str | None
) -> None:
    console = _console()
    with cli_errors(store):
        (target,) = resolve_specs(load_config(config), experiment)
        with closing(open_control_store(store)) as assignments:
            change = Rollout(assignments, target).apply(
                action, actor=cli_actor(actor), reason=reason, evidence={"source": "cli"}
            )
    print_change(change, console)


Reason = Annotated[str, typer.Option("--reason", "-r", help="Why (recorded in the history).")]


def _change_command(action: Action, doc: str) -> Callable[..., None]:
    """The typer command for one state change: the same options for every action, its own help."""

    def command(
        store: Store,
        reason: Reason,
        experiment: Experiment = None,
        config: ConfigPath = None,
        actor: Actor = None,
    ) -> None:
        _change(action, store, experiment, config, reason=reason, actor=actor)

    command.__name__ = command.__qualname__ = action.value
    command.__doc__ = doc
    return command


rollback = _change_command(
    Action.ROLLBACK,
    "Send every unit to control now (every worker follows on its next state read). Idempotent.",
)
pause = _change_command(Action.PAUSE, "Stop enrolling new units; units already assigned keep their variant.")
resume = _change_command(
    Action.RESUME, "Back to running (from paused, or explicitly from rolled back / stopped)."
)
stop = _change_command(
    Action.STOP, "End the experiment: nobody is enrolled; every agent uses its default model."
)


@contextmanager
def _queue(store: str, config: Path | None) -> Iterator[ReviewQueue]:
    """The review queue on ``store`` for the block (errors become exits via ``cli_errors``); closed after."""
    with cli_errors(store):
        queue = ReviewQueue(open_control_store(store), config=load_config(config))
        with closing(queue.store):
            yield queue


ReviewId = Annotated[str, typer.Argument(help="Review id (<experiment>:<hex>).")]


@review_app.command("list")
def review_list(
    store: Store,
    experiment: Experiment = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include approved and rejected items.")] = False,
    json_output: Json = False,
) -> None:
    """Review items waiting for a person (``--all``: every item), oldest first."""
    console = _console()
    with _queue(store, None) as queue:
        items = queue.items(experiment, None if show_all else ReviewStatus.PENDING)
        stale = {i.id: r for i in items if i.status is ReviewStatus.PENDING and (r := queue.stale_reason(i))}
    if json_output:
        _out([{**i.to_json(), "stale": stale.get(i.id)} for i in items], console)
    else:
        print_reviews(items, console, stale)


@review_app.command("show")
def review_show(review_id: ReviewId, store: Store, json_output: Json = False) -> None:
    """One review item: the proposal, its evidence and the verdict."""
    console = _console()
    with _queue(store, None) as queue:
        item = queue.get(review_id)
        stale = queue.stale_reason(item) if item.status is ReviewStatus.PENDING else None
    if json_output:
        _out({**item.to_json(), "stale": stale}, console)
    else:
        print_review(item, console, stale)


Note = Annotated[str, typer.Option("--note", "-n", help="The reviewer's note (recorded).")]


def _segment_options(values: list[str]) -> dict[str, list[str]]:
    segment: dict[str, list[str]] = {}
    for text in values:
        key, sep, value = text.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise typer.BadParameter(f"'{text}' is not KEY=VALUE (e.g. --segment category=easy)")
        segment.setdefault(key.strip(), []).extend(v.strip() for v in value.split(",") if v.strip())
    return segment


def ship(  # noqa: PLR0917 (one parameter per CLI option)
    store: Store,
    variant: Annotated[str, typer.Option("--variant", help="The variant to ship.")],
    reason: Reason,
    experiment: Experiment = None,
    config: ConfigPath = None,
    segment: Annotated[
        list[str] | None,
        typer.Option(
            "--segment",
            help="Ship only to units with KEY=VALUE (repeat, or VALUE1,VALUE2); others stay on control.",
        ),
    ] = None,
    actor: Actor = None,
) -> None:
    """Ship a variant: to everyone, or with --segment only to matching units (every worker follows)."""
    console = _console()
    with cli_errors(store):
        (target,) = resolve_specs(load_config(config), experiment)
        conditions = _segment_options(segment or [])
        with closing(open_control_store(store)) as assignments:
            change = Rollout(assignments, target).ship(
                variant, actor=cli_actor(actor), reason=reason, evidence={"source": "cli"},
                segment=conditions or None,
            )  # fmt: skip
    print_change(change, console)
    if conditions:
        console.print(
            f"only units with {describe_segment(conditions)} get '{variant}'; others stay on control"
        )


def _print_verdict(verdict: str, review_id: str, outcome: ReviewOutcome, console: Console) -> None:
    console.print(f"{verdict} {review_id} by {outcome.item.reviewer}")
    if outcome.change is not None:
        print_change(outcome.change, console)


@review_app.command("approve")
def review_approve(
    review_id: ReviewId,
    store: Store,
    note: Note = "",
    actor: Actor = None,
    config: ConfigPath = None,
) -> None:
    """Approve: ship the proposed winner (to everyone; a segmentation decision: to its segments only).
    Refused when the item is stale."""
    with _queue(store, config) as queue:
        outcome = queue.approve(review_id, reviewer=cli_actor(actor), note=note)
    _print_verdict("approved", review_id, outcome, _console())


@review_app.command("reject")
def review_reject(  # noqa: PLR0917 (one parameter per CLI option)
    review_id: ReviewId,
    store: Store,
    note: Note = "",
    actor: Actor = None,
    stop_experiment: Annotated[bool, typer.Option("--stop", help="Also stop the experiment.")] = False,
    config: ConfigPath = None,
) -> None:
    """Reject: record the verdict; the experiment keeps running (``--stop`` stops it)."""
    with _queue(store, config) as queue:
        outcome = queue.reject(review_id, reviewer=cli_actor(actor), note=note, stop=stop_experiment)
    _print_verdict("rejected", review_id, outcome, _console())


def register(app: typer.Typer) -> None:
    """Add the control commands to the ``routing-agent`` app."""
    from routing_agent.cli.watch_command import watch

    app.command("status")(status)
    app.command("rollback")(rollback)
    app.command("pause")(pause)
    app.command("resume")(resume)
    app.command("stop")(stop)
    app.command("ship")(ship)
    app.command("watch")(watch)
    app.add_typer(review_app, name="review")
