"""The live experiment dashboard: a small ASGI app (Starlette, served by uvicorn) over the shared stores.

Install with ``pip install 'routing-agent[dashboard]'`` and run ``routing-agent dashboard --config … --store
…``. Pages are server-rendered with shipped CSS and a few lines of script (nothing from a CDN); state changes
go through the same library calls as the CLI (``Rollout``, ``ReviewQueue``) and need the dashboard token::

    from routing_agent.dashboard import Board, DashboardSettings, create_app

    app = create_app(Board(config, store, observations), DashboardSettings(token="…"))
"""

from __future__ import annotations

__all__ = ["Board", "DashboardSettings", "create_app", "serve"]

from routing_agent.dashboard.app import DashboardSettings, create_app
from routing_agent.dashboard.board import Board
from routing_agent.dashboard.server import serve
