"""Store maintenance commands: ``purge`` (delete an experiment's data) and ``recover`` (acknowledge a loss).

``routing-agent purge -e ID --store redis://…`` deletes every key of the experiment under the store's prefix
(assignments, state and history, observations, reviews: they share one hash tag). It refuses an experiment
that is still running or paused (or has no recorded state) unless ``--force`` (workers would find its data
gone and send every unit to control), and asks for confirmation unless ``--yes``.

``routing-agent recover -e ID --reason …`` clears a recorded store loss once a person has checked the store
(and fixed ``maxmemory-policy`` / persistence): workers leave control-for-everyone on their next state read,
and units whose assignment was lost are randomized again.
"""

from __future__ import annotations

__all__ = ["register"]

from contextlib import closing
from typing import Annotated, Any

import typer
from rich.console import Console

from routing_agent.cli._common import cli_errors, fail, open_control_store
from routing_agent.config.spec import ExperimentStatus
from routing_agent.control.rollout import cli_actor
from routing_agent.errors import printable

_Store = Annotated[
    str,
    typer.Option("--store", envvar="ROUTING_AGENT_STORE", help="Store URL (redis://host:6379/0?prefix=…)."),
]
_Experiment = Annotated[str, typer.Option("--experiment", "-e", help="Experiment id.")]
_LIVE = {ExperimentStatus.RUNNING, ExperimentStatus.PAUSED}


def _needs(store: Any, method: str, what: str) -> Any:
    found = getattr(store, method, None)
    if found is None:
        raise fail(f"{what} needs a Redis store; {type(store).__name__} keeps no anchor or retention")
    return found


def purge(
    store: _Store,
    experiment: _Experiment,
    force: Annotated[bool, typer.Option(help="Purge even a running or paused experiment.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every key of one experiment from a Redis store (assignments, state, observations, reviews)."""
    console = Console(soft_wrap=True, highlight=False)
    with cli_errors(store), closing(open_control_store(store)) as assignments:
        run = _needs(assignments, "purge", "purge")
        state = assignments.get_state(experiment)
        if (state is None or state.status in _LIVE) and not force:
            status = "running (no state recorded: its YAML status applies)" if state is None else state.status
            raise fail(
                f"experiment '{printable(experiment)}' is {status}: stop, ship or roll it back first, or "
                "pass --force (workers would find its data gone and send every unit to control)",
                1,
            )
        if not yes and not typer.confirm(f"Delete every key of experiment '{printable(experiment)}'?"):
            raise typer.Exit(1)
        deleted = run(experiment)
    console.print(f"purged experiment '{printable(experiment)}': {deleted:,} keys deleted")


def recover(
    store: _Store,
    experiment: _Experiment,
    reason: Annotated[str, typer.Option(help="Why the store can be trusted again (recorded).")],
    actor: Annotated[str | None, typer.Option("--actor", help="Who acknowledges (default: $USER).")] = None,
) -> None:
    """Acknowledge a recorded store loss: routing resumes (lost units are randomized again)."""
    console = Console(soft_wrap=True, highlight=False)
    with cli_errors(store), closing(open_control_store(store)) as assignments:
        acknowledge = _needs(assignments, "acknowledge_loss", "recover")
        loss = _needs(assignments, "loss", "recover")(experiment)
        cleared = acknowledge(experiment, actor=cli_actor(actor), reason=reason)
    if not cleared:
        console.print(f"experiment '{printable(experiment)}': no store loss recorded; nothing to do")
        return
    assert loss is not None
    console.print(
        f"experiment '{printable(experiment)}': store loss ({printable(loss.description)}) acknowledged; "
        "workers resume routing on their next state read"
    )


def register(app: typer.Typer) -> None:
    """Add ``purge`` and ``recover`` to the ``routing-agent`` app."""
    app.command("purge")(purge)
    app.command("recover")(recover)
