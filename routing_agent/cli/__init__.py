"""The ``routing-agent`` command line: typer commands only, each a thin shell over a library function.

No library package imports this one (``tests/test_packaging.py``) and it is the only one that imports typer,
so the library's hot path never pays for the command line. ``app`` is the typer application (commands
registered from ``control_commands``, ``evaluation_commands``, ``scoring_commands``, ``watch_command``),
``main`` the console script.
"""

from routing_agent.cli.app import app, main

__all__ = ["app", "main"]
