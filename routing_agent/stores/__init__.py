"""Stores: every persisted thing, in one design — ``assignments``, ``observations`` and ``reviews``.

Three families, siblings with the same shape: a ``typing.Protocol`` (``AssignmentStore``,
``ObservationStore``, ``ReviewStore``), one module per backend (``memory``, ``sqlite``, ``redis``), and an
opener that takes the one URL grammar of every family (``_url``)::

    memory://                                             this process only
    path/to/file.db | sqlite:///relative.db | sqlite:////abs/file.db        ?busy_timeout_ms=
    redis://[user:password@]host:6379/0 | rediss://… | unix:///path.sock    ?prefix= &password_env=
                                                              &cluster=true &timeout= &async_timeout=

Unknown options are refused by every family. ``None`` means ``memory://``. Backends declare a
``Capability`` set; the shared SQLite and Redis plumbing (``_sqlite``, ``_redis``) gives every family the
same connection model, client policy (timeouts, one retry on a broken connection) and key hash tags.
Names are imported lazily, so opening a store pulls in only its backend.
"""

from __future__ import annotations

__all__ = [
    "AssignmentStore",
    "Capability",
    "ObservationStore",
    "ReviewStore",
    "open_observation_store",
    "open_review_store",
    "open_store",
]

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routing_agent.stores.assignments.base import AssignmentStore
    from routing_agent.stores.assignments.open import open_store
    from routing_agent.stores.capabilities import Capability
    from routing_agent.stores.observations.base import ObservationStore
    from routing_agent.stores.observations.open import open_observation_store
    from routing_agent.stores.reviews.base import ReviewStore
    from routing_agent.stores.reviews.open import open_review_store

_WHERE = {
    "AssignmentStore": "assignments.base",
    "Capability": "capabilities",
    "ObservationStore": "observations.base",
    "ReviewStore": "reviews.base",
    "open_observation_store": "observations.open",
    "open_review_store": "reviews.open",
    "open_store": "assignments.open",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'routing_agent.stores' has no attribute {name!r}")
    return getattr(importlib.import_module(f"routing_agent.stores.{where}"), name)
