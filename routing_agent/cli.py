"""The ``routing-agent`` command line (typer). Each command is a thin shell over a library function."""

from __future__ import annotations

__all__ = ["app", "main"]

import typer

app = typer.Typer(
    name="routing-agent",
    help="A/B-test LLM releases inside LangGraph workflows: route, observe, evaluate, roll back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Console-script entry point."""
    app()
