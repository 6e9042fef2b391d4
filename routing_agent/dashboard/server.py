"""Run the dashboard under uvicorn (what ``routing-agent dashboard`` calls)."""

from __future__ import annotations

__all__ = ["is_loopback", "serve"]

import ipaddress
import logging

from routing_agent.dashboard.app import DashboardSettings, create_app
from routing_agent.dashboard.board import Board

log = logging.getLogger(__name__)
_GRACE_S = 3  # on shutdown, open event streams are cut after this long (browsers reconnect elsewhere)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(board: Board, settings: DashboardSettings, *, host: str = "127.0.0.1", port: int = 8050) -> None:
    """Serve until interrupted; the stores are closed afterwards."""
    import uvicorn

    app = create_app(board, settings)
    try:
        uvicorn.run(
            app, host=host, port=port, log_level="warning", access_log=False, server_header=False,
            timeout_graceful_shutdown=_GRACE_S,
        )  # fmt: skip
    finally:
        board.close()
