"""What the control commands print for people: status, history, review items, state changes (rich)."""

from __future__ import annotations

__all__ = ["print_change", "print_review", "print_reviews", "print_status"]

from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from routing_agent.control.rollout import StateChange
from routing_agent.control.status import ExperimentSnapshot
from routing_agent.errors import printable
from routing_agent.stores.assignments.state import ExperimentState
from routing_agent.stores.reviews.base import ReviewItem, ReviewStatus

_STYLE = {
    "running": "bold green",
    "paused": "bold yellow",
    "rolled_back": "bold red",
    "shipped": "bold cyan",
    "stopped": "bold magenta",
    "pending": "bold yellow",
    "approved": "bold green",
    "rejected": "bold red",
}


def when(ts: float | None) -> str:
    """UTC time of a unix timestamp, to the second."""
    return "-" if not ts else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _live_policy(state: ExperimentState) -> str:
    """What routing follows beyond the status: a segment-level ship's segment, or the ramp step."""
    from routing_agent.assignment.assigner import RAMP_STEP, SHIP_SEGMENT
    from routing_agent.control.rollout import describe_segment

    if state.evidence.get(SHIP_SEGMENT):
        return f" for {describe_segment(state.evidence[SHIP_SEGMENT])} only"
    if RAMP_STEP in state.evidence:
        return f" at ramp step {int(state.evidence[RAMP_STEP]) + 1}"
    return ""


def _state_line(state: ExperimentState) -> Text:
    text = Text.assemble((state.status.value, _STYLE.get(state.status.value, "bold")))
    if state.winner:
        text.append(f" (winner {state.winner})")
    text.append(_live_policy(state))
    if state.version:
        text.append(
            f"  since {when(state.changed_at)} by {state.actor or 'unknown'}, version {state.version}"
        )
    else:
        text.append("  (from the YAML; no change recorded in the store)")
    return text


def print_status(snap: ExperimentSnapshot, console: Console, *, history: int = 20) -> None:
    """The operator's view of one experiment."""
    console.print(Text.assemble((snap.experiment, "bold"), "  ", _state_line(snap.state)))
    if snap.loss is not None:
        loss = snap.loss
        console.print(
            Text.assemble(
                ("  STORE LOST DATA: ", "bold red"),
                printable(f"{loss.description} (noticed {when(loss.detected_at)} by {loss.detected_by}); "),
                ("every unit goes to control", "bold"),
                f" until `routing-agent recover -e {printable(snap.experiment)}`",
            )
        )
    if snap.state.reason:
        console.print(f"  reason: {snap.state.reason}")
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in ("variant", "units", "share", "weight"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    for name in sorted(set(snap.counts) | set(snap.weights)):
        share = snap.share(name)
        weight = snap.weights.get(name)
        label = name + (" (control)" if name == snap.control else "")
        table.add_row(
            label,
            f"{snap.counts.get(name, 0):,}",
            "-" if share is None else f"{share:.1%}",
            "-" if weight is None else f"{weight:.0%}",
        )
    if table.row_count:
        console.print(table)
    else:
        console.print("  no units assigned yet")
    if snap.pending_reviews:
        for item in snap.pending_reviews:
            console.print(
                Text.assemble(
                    ("  review pending: ", "bold yellow"),
                    f"{item.id} ship '{item.winner}' (queued {when(item.created_at)} by {item.requested_by})",
                )
            )
    if snap.history:
        console.print(Text("history", style="bold"))
        for state in snap.history[-history:] if history > 0 else snap.history:
            line = Text(f"  v{state.version}  {when(state.changed_at)}  ")
            line.append(state.status.value, style=_STYLE.get(state.status.value, ""))
            if state.winner:
                line.append(f" → {state.winner}")
            line.append(_live_policy(state))
            line.append(f"  by {state.actor or 'unknown'}")
            if state.reason:
                line.append(f": {state.reason}")
            console.print(line)


def print_change(change: StateChange, console: Console) -> None:
    """One line saying what a state-changing command did."""
    state = change.state
    if change.applied:
        text = Text.assemble(
            (f"{change.action.value}: ", "bold"),
            f"{change.experiment} {change.previous.status.value} → ",
            (state.status.value, _STYLE.get(state.status.value, "bold")),
            f" (version {state.version}, by {state.actor})",
        )
    else:
        text = Text.assemble(
            ("no change: ", "bold"),
            f"{change.experiment} already is ",
            (state.status.value, _STYLE.get(state.status.value, "bold")),
            f" (version {state.version}, by {state.actor or 'config'})",
        )
    console.print(text)


def print_reviews(items: list[ReviewItem], console: Console, stale: dict[str, str]) -> None:
    """The review queue as a table (``stale`` maps ids to why they can no longer be approved)."""
    if not items:
        console.print("no review items")
        return
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in ("id", "status", "ship", "queued", "by", "decision"):
        table.add_column(column)
    for item in items:
        status = Text(item.status.value, style=_STYLE.get(item.status.value, ""))
        if item.id in stale:
            status.append(" (stale)", style="red")
        table.add_row(
            item.id, status, item.winner, when(item.created_at), item.requested_by, item.summary[:80]
        )
    console.print(table)


def print_review(item: ReviewItem, console: Console, stale: str | None) -> None:
    """One review item in full: the proposal, its evidence, and the verdict."""
    console.print(
        Text.assemble((item.id, "bold"), "  ", (item.status.value, _STYLE.get(item.status.value, "bold")))
    )
    console.print(f"  experiment: {item.experiment}   ship: {item.winner}")
    console.print(
        f"  queued: {when(item.created_at)} by {item.requested_by} (state version {item.state_version})"
    )
    if item.summary:
        console.print(f"  decision: {item.summary}")
    for reason in item.decision.get("reasons") or []:
        console.print(f"    - {reason}")
    for g in item.decision.get("guardrails") or []:
        mark = "BREACHED" if g.get("breached") else "held"
        console.print(f"    guardrail {g.get('bound')}: {mark} (ratio {g.get('ratio')})")
    if item.status is not ReviewStatus.PENDING:
        note = f" — {item.note}" if item.note else ""
        console.print(f"  {item.status.value} by {item.reviewer} at {when(item.decided_at)}{note}")
    if stale:
        console.print(Text(f"  stale: {stale}; it cannot be approved", style="red"))
