"""Time and size bounds of one score, so an inline scorer never holds the graph past its budget.

``bounded_score(scorer, item, limits)`` first measures the item (output, reference, input) with a walk that
stops at ``limits.max_chars``: a larger item is not parsed at all and scores ``oversize``. Otherwise the
scorer runs on a worker thread and the caller waits at most ``limits.timeout_s``: past it the call returns a
``timeout`` score and the graph goes on (the worker finishes in the background; Python cannot kill a
thread, so the pool is small and a saturated pool answers ``busy`` within the same budget).

A limited score is ``invalid`` with a detail of its kind (``<name>.timeout``, ``<name>.oversize``,
``<name>.busy`` = 1), so it is excluded from the metric and counted; ``HITS`` counts them per process and the
first of each kind per scorer is logged. User regexes run on RE2 (``routing_agent.scoring.regex``), so the
time bound is a backstop, not the only defence.
"""

from __future__ import annotations

__all__ = ["HITS", "LIMIT_KINDS", "abounded_score", "bounded_score", "item_chars", "limited_score"]

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from langchain_core.messages import BaseMessage

from routing_agent.config.measures import ScorerLimits
from routing_agent.scoring.base import Pair, Sample, Score, Scorer, Status

logger = logging.getLogger("routing_agent.scoring")

LIMIT_KINDS = ("oversize", "timeout", "busy")
HITS: Counter[tuple[str, str]] = Counter()
"""Limited scores per ``(scorer name, kind)`` in this process."""

_WORKERS = 4
_pools: list[ThreadPoolExecutor] = []  # at most one, made on first use
_slots = threading.BoundedSemaphore(_WORKERS)
_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    with _lock:
        if not _pools:
            _pools.append(ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="routing-agent-scorer"))
        return _pools[0]


def _chars(value: Any, budget: int) -> int:
    """Characters in ``value`` (strings of nested containers, message content), counted up to ``budget``."""
    total = 0
    stack = [value]
    while stack and total <= budget:
        node = stack.pop()
        total += 1  # every node costs at least one: a million empty lists is large too
        if isinstance(node, str | bytes | bytearray):
            total += len(node)
        elif isinstance(node, BaseMessage):
            stack.append(node.content)
            stack.append(getattr(node, "tool_calls", None))
        elif isinstance(node, Mapping):
            try:
                for key, val in node.items():
                    stack.append(key)
                    stack.append(val)
                    if len(stack) > budget:
                        break
            except Exception:  # a hostile mapping: treat as unbounded
                return budget + 1
        elif isinstance(node, list | tuple | set | frozenset):
            stack.extend(list(node)[: budget + 1])
    return total


def item_chars(item: Sample | Pair, budget: int) -> tuple[str, int] | None:
    """The first field of ``item`` larger than ``budget`` characters and its (capped) size, or None."""
    fields = ("control", "test", "reference", "input") if isinstance(item, Pair) else ("output", "reference")
    fields = (*fields, "input") if isinstance(item, Sample) else fields
    for field in fields:
        size = _chars(getattr(item, field), budget)
        if size > budget:
            return field, size
    return None


def limited_score(name: str, kind: str, explanation: str) -> Score:
    """An invalid score of limit ``kind``, counted in ``HITS`` (the first per scorer and kind is logged)."""
    HITS[(name, kind)] += 1
    if HITS[(name, kind)] == 1:
        logger.warning(
            "scorer '%s' hit its %s limit: %s (counted as %s.%s)", name, kind, explanation, name, kind
        )
    return Score(name, None, label=kind, explanation=explanation, status=Status.INVALID, details={kind: 1.0})


def _oversize(scorer: Scorer[Any], item: Sample | Pair, limits: ScorerLimits) -> Score | None:
    found = item_chars(item, limits.max_chars)
    if found is None:
        return None
    return limited_score(scorer.name, "oversize", f"{found[0]} exceeds max_chars={limits.max_chars}")


def _release(_: Future[Score]) -> None:
    _slots.release()


def _submit(scorer: Scorer[Any], item: Sample | Pair, limits: ScorerLimits) -> Future[Score] | Score:
    if not _slots.acquire(timeout=limits.timeout_s):
        return limited_score(scorer.name, "busy", f"every scorer worker is busy past {limits.timeout_s:g} s")
    try:
        future = _executor().submit(scorer.score, item)
    except BaseException:
        _slots.release()
        raise
    future.add_done_callback(_release)
    return future


def _timeout(scorer: Scorer[Any], limits: ScorerLimits) -> Score:
    return limited_score(scorer.name, "timeout", f"no score within timeout_s={limits.timeout_s:g}")


def _left(start: float, limits: ScorerLimits) -> float:
    return max(0.0, limits.timeout_s - (time.monotonic() - start))


def bounded_score(
    scorer: Scorer[Any], item: Sample | Pair, limits: ScorerLimits, *, deadline: bool = True
) -> Score:
    """``scorer.score(item)`` within ``limits``; a limited score instead (see the module docstring).

    ``deadline=False`` applies the size cap only (judges: their own request timeout bounds them).
    """
    early = _oversize(scorer, item, limits)
    if early is not None or not deadline:
        return early if early is not None else scorer.score(item)
    start = time.monotonic()
    submitted = _submit(scorer, item, limits)
    if isinstance(submitted, Score):
        return submitted
    try:
        return submitted.result(timeout=_left(start, limits))
    except FutureTimeout:
        submitted.cancel()
        return _timeout(scorer, limits)


async def abounded_score(
    scorer: Scorer[Any], item: Sample | Pair, limits: ScorerLimits, *, deadline: bool = True
) -> Score:
    """Async twin of ``bounded_score`` (the event loop is never blocked by the scorer)."""
    early = _oversize(scorer, item, limits)
    if early is not None or not deadline:
        return early if early is not None else await scorer.ascore(item)
    start = time.monotonic()
    submitted = await asyncio.to_thread(_submit, scorer, item, limits)
    if isinstance(submitted, Score):
        return submitted
    try:
        return await asyncio.wait_for(asyncio.wrap_future(submitted), timeout=_left(start, limits))
    except TimeoutError:
        return _timeout(scorer, limits)
