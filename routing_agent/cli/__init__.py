"""The ``routing-agent`` command line: typer commands only, each a thin shell over a library function.

No library package imports this one; it is the only place typer and the rich terminal output live, so the
library's hot path never pays for them. ``app`` is the typer application, ``main`` the console script.
"""

from routing_agent.cli.app import app, main

__all__ = ["app", "main"]
