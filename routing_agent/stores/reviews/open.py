"""``open_review_store``: the review store that lives beside an assignment store (same URL, same place).

A review queue is kept where the experiment's state is: the same SQLite file (table ``ra_reviews``), the same
Redis (keys under the same prefix and hash tag; ``review_store_for`` uses the assignment store's public
``client()``), or, for ``memory://``, one in-process queue per ``MemoryStore`` (so everything built on one
memory store shares it). URLs follow the grammar of ``routing_agent.stores``.
"""

from __future__ import annotations

__all__ = ["open_review_store", "review_store_for"]

import importlib
import os
from typing import cast

from routing_agent.stores._url import BACKENDS, open_url
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.reviews.base import ReviewStore


def review_store_for(store: AssignmentStore, *, owns: bool = False) -> ReviewStore:
    """The review store beside ``store``; with ``owns``, closing it also closes ``store``.

    Each registered backend's review module answers through its ``beside(store, owns)`` (None when the
    store is not its kind), so a new backend needs no change here.
    """
    for backend in BACKENDS:
        module = importlib.import_module(f"routing_agent.stores.reviews.{backend.module}")
        reviews = module.beside(store, owns=owns)
        if reviews is not None:
            return cast("ReviewStore", reviews)
    raise TypeError(
        f"no review store for {type(store).__name__}: pass a ReviewStore, or use a store of a registered "
        f"backend ({', '.join(b.module for b in BACKENDS)})"
    )


def open_review_store(
    target: ReviewStore | AssignmentStore | str | os.PathLike[str] | None,
    *,
    prefix: str | None = None,
    timeout_s: float | None = None,
) -> ReviewStore:
    """A review store for a URL or path, the one beside an assignment store, or ``target`` as is.

    ``None`` is ``memory://`` (a new, empty in-process queue). ``prefix`` and ``timeout_s`` apply to Redis
    URLs and override their query options (``?timeout=`` defaults to 2 s: a control-plane store).
    """
    if target is None or isinstance(target, str | os.PathLike):
        return cast("ReviewStore", open_url("reviews", target, prefix=prefix, timeout=timeout_s))
    if isinstance(target, AssignmentStore):
        return review_store_for(target)
    return target
