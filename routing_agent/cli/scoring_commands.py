"""``routing-agent score``: score stored outputs (JSONL ``OutputRecord``s) with an experiment's scorers.

    routing-agent score --config configs/rag.yaml --records outputs.jsonl [--observations sqlite:///obs.db]

Prints, per scorer and variant, the number of valid scores, their mean and the invalid (judge) and skipped
counts; ``--json`` prints the same as JSON. Exit 0 when scored, 2 when the config or records cannot be read.
"""

from __future__ import annotations

__all__ = ["register", "run_score"]

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from routing_agent.errors import RoutingAgentError
from routing_agent.scoring.factory import build_scorers
from routing_agent.scoring.outputs import read_records
from routing_agent.scoring.runner import ascore_records


def run_score(
    config: Path,
    records: Path,
    *,
    experiment: str | None = None,
    observations: str | None = None,
    mode: str | None = None,
    as_json: bool = False,
    concurrency: int = 8,
) -> int:
    """Score ``records`` with the scorers of one experiment of ``config``; print a summary; exit code."""
    from routing_agent.config.loader import load_experiments

    console = Console()
    try:
        loaded = load_experiments(config)
        if experiment is None and len(loaded.experiments) != 1:
            known = ", ".join(e.id for e in loaded.experiments)
            raise typer.BadParameter(f"the config has several experiments ({known}): pass --experiment")
        spec = loaded.get(experiment) if experiment else loaded.experiments[0]
        rows = [r for r in read_records(records) if r.experiment in (spec.id, f"{spec.id}:shadow", "")]
        scorers = build_scorers(spec, source=str(config), base_dir=config.parent)
        sink = None
        if observations is not None:
            from routing_agent.stores.observations import open_observation_store

            sink = open_observation_store(observations)
    except (RoutingAgentError, OSError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    result = asyncio.run(
        ascore_records(rows, scorers, experiment=spec, mode=mode, sink=sink, concurrency=concurrency)
    )
    if sink is not None:
        sink.close()
    summary = result.summary()
    if as_json:
        print(json.dumps({"experiment": spec.id, "records": len(rows), "scores": summary}, indent=2))
        return 0
    table = Table(title=f"{spec.id}: {len(rows)} records scored")
    for column in ("metric", "variant", "n", "mean", "invalid", "skipped"):
        table.add_column(column, justify="left" if column in {"metric", "variant"} else "right")
    for row in summary:
        mean = "-" if row["mean"] is None else f"{row['mean']:.4g}"
        table.add_row(
            row["scorer"], row["variant"], str(row["n"]), mean, str(row["invalid"]), str(row["skipped"])
        )
    console.print(table)
    return 0


def register(app: typer.Typer) -> None:
    """Add ``score`` to the ``routing-agent`` app."""

    @app.command()
    def score(  # noqa: PLR0917 (one parameter per CLI option)
        config: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Experiment YAML.")],
        records: Annotated[
            Path, typer.Option(exists=True, dir_okay=False, help="Stored outputs, one JSON record a line.")
        ],
        experiment: Annotated[
            str | None, typer.Option(help="Experiment id (if the YAML has several).")
        ] = None,
        observations: Annotated[
            str | None, typer.Option(help="Observation store URL to write to (sqlite:///…, redis://…).")
        ] = None,
        mode: Annotated[
            str | None, typer.Option(help="Only scorers of this mode: inline or offline.")
        ] = None,
        concurrency: Annotated[int, typer.Option(min=1, help="Judge calls in flight.")] = 8,
        json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    ) -> None:
        """Score stored outputs with an experiment's scorers (judges, exact/fuzzy/JSON, citations)."""
        raise typer.Exit(
            run_score(
                config, records, experiment=experiment, observations=observations, mode=mode,
                as_json=json_output, concurrency=concurrency,
            )
        )  # fmt: skip
