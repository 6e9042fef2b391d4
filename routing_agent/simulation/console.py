"""What ``demo`` / ``simulate`` print (rich): progress, per-variant outcomes, decisions, files written."""

from __future__ import annotations

__all__ = ["print_decisions", "print_outputs", "print_summary", "progress", "scoring_lines"]

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from routing_agent.config.spec import ExperimentsConfig
    from routing_agent.evaluation.analysis import Evaluation
    from routing_agent.simulation.runner import RunSummary, SessionResult

_DECISION_STYLE = {
    "ship": "bold green",
    "no_difference": "bold cyan",
    "rollback": "bold red",
    "invalid": "bold magenta",
}


@contextmanager
def progress(
    console: Console, label: str, total: int, *, show: bool = True
) -> Iterator[Callable[[SessionResult], None]]:
    """A session observer advancing a progress bar (a no-op observer when ``show`` is false)."""
    if not show:
        yield lambda _result: None
        return
    columns = (
        TextColumn(f"[bold]{label}[/] sessions"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("sessions", total=total)
        yield lambda _result: bar.advance(task)


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}"


def print_summary(
    console: Console,
    config: ExperimentsConfig,
    summary: RunSummary,
    *,
    headline: tuple[str, ...],
    stored: Mapping[str, Mapping[str, int]],
    workers: int,
    time_scale: float,
) -> None:
    """Sessions per second, then per experiment: sessions and headline outcome means per variant."""
    rate = summary.sessions / summary.seconds if summary.seconds else 0.0
    crashed = f", [red]{summary.crashed} crashed[/]" if summary.crashed else ""
    console.print(
        f"[bold]{summary.sessions}[/] sessions in {summary.seconds:.1f} s ({rate:.0f}/s, "
        f"{workers} workers, time scale {time_scale:g}){crashed}"
    )
    for spec in config.experiments:
        primary = spec.primary_metric.name if spec.primary_metric else None
        measured = {name for sums in summary.sums.values() for name in sums}
        names = [n for n in dict.fromkeys([primary, *headline]) if n and n in measured]
        models = ", ".join(f"{v.name} = {v.model}" for v in spec.variants)
        counts = stored.get(spec.id, {})
        table = Table(
            title=f"experiment [bold]{spec.id}[/] · scope: {', '.join(spec.scope) or 'all agents'}",
            caption=f"{models}; assigned in the store: "
            + ", ".join(f"{v} {n}" for v, n in sorted(counts.items())),
        )
        table.add_column("variant", no_wrap=True)
        table.add_column("sessions", justify="right")
        for name in names:
            table.add_column(name + (" *" if name == primary else ""), justify="right")
        variants = [v.name for v in spec.variants]
        variants += [v for v in summary.counts.get(spec.id, Counter()) if v not in variants]
        for variant in variants:
            means = summary.means(spec.id, variant)
            count = summary.counts[spec.id][variant] if spec.id in summary.counts else 0
            table.add_row(variant, str(count), *(_fmt(means.get(name)) for name in names))
        console.print(table)
        if primary in names:
            console.print("* primary metric (means of this run; the evaluator decides with statistics)")


def print_outputs(console: Console, outputs: Mapping[str, Path]) -> None:
    """Every file the run wrote, one per line."""
    for label, path in outputs.items():
        console.print(f"{label}: [cyan]{path}[/]", soft_wrap=True)


def print_decisions(
    console: Console, evaluations: Mapping[str, Evaluation], reports: Mapping[str, Path]
) -> None:
    """Each experiment's decision in one sentence, and where its HTML report is."""
    for experiment, evaluation in evaluations.items():
        kind = evaluation.decision.kind.value
        line = Text.assemble(
            ("decision ", "bold"),
            (kind.upper(), _DECISION_STYLE.get(kind, "bold yellow")),
            f" ({experiment}): {evaluation.decision.summary}",
        )
        console.print(line, soft_wrap=True)
        if experiment in reports:
            console.print(Text.assemble("report: ", (str(reports[experiment]), "cyan")), soft_wrap=True)


def scoring_lines(stats: Mapping[str, Mapping[str, int]]) -> list[str]:
    """One line per live scorer: how many scores it recorded, and what went wrong (errors, budget)."""
    lines = []
    for name, counts in sorted(stats.items()):
        if name in {"live", "control_rerun", "mirror"}:
            continue
        scored = counts.get("scored", 0)
        problems = {k: v for k, v in counts.items() if k != "scored" and v}
        style = "yellow" if problems or not scored else "green"
        extra = ", ".join(f"{k} {v}" for k, v in sorted(problems.items()))
        lines.append(f"[{style}]scorer {name}: {scored} scored[/]" + (f" ({extra})" if extra else ""))
    return lines
