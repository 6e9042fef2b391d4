"""``open_store``: an ``AssignmentStore`` from what a user writes (the URL grammar of ``stores``).

``memory://``, a file path or ``sqlite:///…`` (``?busy_timeout_ms=``, default 2000), ``redis://…`` /
``rediss://…`` / ``unix://…`` (``?prefix=``, ``?password_env=``, ``?cluster=true``, ``?timeout=`` seconds —
default 0.05, 0.25 for the asyncio client — ``?async_timeout=``, and redis-py connection options).
"""

from __future__ import annotations

__all__ = ["open_store"]

import os
from typing import cast

from routing_agent.stores._url import open_url
from routing_agent.stores.assignments.base import AssignmentStore


def open_store(
    target: AssignmentStore | str | os.PathLike[str] | None,
    *,
    prefix: str | None = None,
    password_env: str | None = None,
    timeout_s: float | None = None,
) -> AssignmentStore:
    """An ``AssignmentStore`` for ``target`` (returned as is when it already is one); ``None`` is ``memory://``.

    ``prefix``, ``password_env`` and ``timeout_s`` apply to Redis URLs and override their query options.
    Raises ``ValueError`` for an unknown scheme or option, ``MissingDependency`` when a Redis URL is given
    without the ``redis`` extra installed.
    """
    if target is not None and not isinstance(target, str | os.PathLike):
        if isinstance(target, AssignmentStore):
            return target
        raise TypeError(f"cannot open an assignment store from {type(target).__name__}")
    store = open_url("assignments", target, prefix=prefix, password_env=password_env, timeout=timeout_s)
    return cast("AssignmentStore", store)
