"""``open_observation_store``: an ``ObservationStore`` from the URL grammar of ``routing_agent.stores``.

``memory://``, a file path or ``sqlite:///…`` (``?busy_timeout_ms=``, default 5000), ``redis://…`` /
``rediss://…`` / ``unix://…`` (as for assignment stores; ``?timeout=`` defaults to 2 s: writes run off the
graph's thread). ``None`` is ``memory://``: a store private to this process, never ``None``.
"""

from __future__ import annotations

__all__ = ["open_observation_store"]

import os
from typing import cast

from routing_agent.stores._url import open_url
from routing_agent.stores.observations.base import ObservationStore


def open_observation_store(target: ObservationStore | str | os.PathLike[str] | None) -> ObservationStore:
    """An ``ObservationStore`` for ``target`` (returned as is when it already is one); ``None`` is ``memory://``.

    Raises ``ValueError`` for an unknown scheme or option, ``TypeError`` for anything else.
    """
    if target is not None and not isinstance(target, str | os.PathLike):
        if isinstance(target, ObservationStore):
            return target
        raise TypeError(f"cannot open an observation store from {type(target).__name__}")
    return cast("ObservationStore", open_url("observations", target))
