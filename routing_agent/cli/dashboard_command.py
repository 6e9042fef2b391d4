"""``routing-agent dashboard``: serve the live experiment dashboard over the shared stores.

Binds to loopback by default. State changes need the token from ``--token-file`` or
``$ROUTING_AGENT_DASHBOARD_TOKEN``; without one (or with ``--read-only``) the dashboard only shows.
"""

from __future__ import annotations

__all__ = ["dashboard"]

import sys
from pathlib import Path
from typing import Annotated

import typer

from routing_agent.cli._common import (
    ConfigOption,
    ObservationsOption,
    StoreOption,
    cli_errors,
    fail,
    load_config,
    open_run_stores,
    redact,
)


def dashboard(  # noqa: PLR0917 (one parameter per CLI option)
    config: ConfigOption,
    store: StoreOption,
    observations: ObservationsOption = None,
    host: Annotated[str, typer.Option(help="Address to bind (default: loopback only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8050,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Show only: every state change is off.")
    ] = False,
    token_file: Annotated[
        Path | None,
        typer.Option(help="File holding the action token (default: $ROUTING_AGENT_DASHBOARD_TOKEN)."),
    ] = None,
    refresh: Annotated[float, typer.Option(min=0.2, help="Seconds between live updates.")] = 2.0,
    poll: Annotated[
        bool,
        typer.Option(
            "--poll", help="Live updates by polling only (behind a proxy that buffers event streams)."
        ),
    ] = False,
) -> None:
    """Serve the live dashboard: experiments, decisions, plots, reviews and audited actions."""
    from routing_agent.errors import MissingDependency

    try:
        from routing_agent.dashboard import Board, DashboardSettings, serve
        from routing_agent.dashboard.security import TOKEN_ENV, load_token
        from routing_agent.dashboard.server import is_loopback
    except ImportError as exc:
        raise fail(str(MissingDependency(exc.name or "starlette", "dashboard"))) from None
    with cli_errors(store):
        cfg = load_config(config)
        assert cfg is not None
        token = None if read_only else load_token(token_file)
    assignments, obs = open_run_stores(store, observations, cfg.experiments[0].id if len(cfg) else "-")
    settings = DashboardSettings(token=token, read_only=read_only, live_every_s=refresh, events=not poll)
    if not settings.actions_on:
        why = "--read-only" if read_only else f"no token (set ${TOKEN_ENV} or pass --token-file)"
        print(f"dashboard: read-only, {why}", file=sys.stderr)
    if not is_loopback(host):
        print(f"dashboard: WARNING: listening on {host}, reachable from other machines", file=sys.stderr)
    print(f"dashboard: http://{host}:{port}/ (store {redact(store)})", file=sys.stderr)
    serve(Board(cfg, assignments, obs, refresh_s=refresh), settings, host=host, port=port)
