"""The ``routing-agent`` command line (typer). Each command is a thin shell over a library function."""

from __future__ import annotations

__all__ = ["app", "main"]

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="routing-agent",
    help="A/B-test LLM releases inside LangGraph workflows: route, observe, evaluate, roll back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """A/B-test LLM releases inside LangGraph workflows: route, observe, evaluate, roll back."""


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Experiment YAML files or folders (*.yaml, *.yml).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check experiment configs: every problem with file:line, experiment, field and fix; exit 1 if any."""
    from routing_agent.config.validate import run_validate

    raise typer.Exit(run_validate(paths, as_json=json_output))


def main() -> None:
    """Console-script entry point."""
    app()
