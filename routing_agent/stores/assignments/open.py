"""``open_store``: an ``AssignmentStore`` from what a user writes (the URL grammar of ``stores``).

``memory://``, a file path or ``sqlite:///…`` (``?busy_timeout_ms=``, default 2000), ``redis://…`` /
``rediss://…`` / ``unix://…`` (``?prefix=``, ``?password_env=``, ``?cluster=true``, ``?timeout=`` seconds —
default 0.05, 0.25 for the asyncio client — ``?async_timeout=``, and redis-py connection options).
"""

from __future__ import annotations

__all__ = ["CONTROL_TIMEOUT_S", "open_control_store", "open_store"]

import os
from typing import cast
from urllib.parse import parse_qsl, urlsplit

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


CONTROL_TIMEOUT_S = 2.0
"""Redis timeout of control-plane reads and writes (evaluate, watch, the CLI): people and loops can wait
longer than the routing hot path (0.05 s), and a busy server must not make an evaluation miss assignments."""


def open_control_store(target: AssignmentStore | str | os.PathLike[str]) -> AssignmentStore:
    """``open_store`` for the control plane: a Redis URL without ``?timeout=`` gets ``CONTROL_TIMEOUT_S``."""
    if isinstance(target, str) and "://" in target:
        scheme = target.split("://", 1)[0].lower()
        if scheme in ("redis", "rediss", "unix") and "timeout" not in dict(parse_qsl(urlsplit(target).query)):
            return open_store(target, timeout_s=CONTROL_TIMEOUT_S)
    return open_store(target)
