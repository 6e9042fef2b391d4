"""Several experiments in one Redis round trip: the pipelined ``get_or_set`` and state read of ``RedisStore``.

A unit in N experiments costs one round trip, not N: the scripts of ``_redis_layout`` are sent with
``EVALSHA`` in one pipeline (``transaction=False``: each script is atomic by itself, and on Redis Cluster the
pipeline splits by slot). After ``NOSCRIPT`` (a restart or ``SCRIPT FLUSH``) the script is loaded and the
batch sent once more (both scripts are idempotent for a unit that already holds a variant). A loss found for
one experiment is that experiment's answer (the others stand); any Redis error fails the whole batch as
``StoreUnavailable``.
"""

from __future__ import annotations

__all__ = ["RedisBatch", "Wanted"]

import asyncio
from collections.abc import Sequence
from typing import Any, cast

from routing_agent.stores.assignments._common import decode_state
from routing_agent.stores.assignments._redis_clients import ERRORS, RedisClients
from routing_agent.stores.assignments._redis_layout import (
    GET_OR_SET,
    GET_OR_SET_SHA,
    READ_STATE,
    READ_STATE_SHA,
)
from routing_agent.stores.assignments.loss import StoreLoss, StoreLost
from routing_agent.stores.assignments.state import ExperimentState

try:
    from redis.exceptions import NoScriptError as _NoScript
except ImportError:  # pragma: no cover - exercised only without the extra
    _NoScript = LookupError  # type: ignore[assignment,misc]

_SCRIPTS = {GET_OR_SET_SHA: GET_OR_SET, READ_STATE_SHA: READ_STATE}

Wanted = tuple[str, str, str, float | None]
"""A ``get_or_set`` request: (experiment, unit id, variant, sticky TTL in seconds or None)."""
StateRead = tuple[ExperimentState | None, StoreLoss | None]


def _pipelined(client: Any, sha: str, keys: int, argv: list[tuple[Any, ...]]) -> list[Any]:
    for attempt in (0, 1):
        pipe = client.pipeline(transaction=False)
        for args in argv:
            pipe.evalsha(sha, keys, *args)
        replies = cast("list[Any]", pipe.execute(raise_on_error=False))
        if attempt or not any(isinstance(r, _NoScript) for r in replies):
            return replies
        client.script_load(_SCRIPTS[sha])
    raise AssertionError("unreachable")  # pragma: no cover


async def _apipelined(client: Any, sha: str, keys: int, argv: list[tuple[Any, ...]]) -> list[Any]:
    for attempt in (0, 1):
        pipe = client.pipeline(transaction=False)
        for args in argv:
            pipe.evalsha(sha, keys, *args)
        replies = cast("list[Any]", await pipe.execute(raise_on_error=False))
        if attempt or not any(isinstance(r, _NoScript) for r in replies):
            return replies
        await client.script_load(_SCRIPTS[sha])
    raise AssertionError("unreachable")  # pragma: no cover


class RedisBatch(RedisClients):
    """``get_or_set_many`` / ``read_state_many`` (and async twins) over the single-experiment scripts."""

    # -- provided by RedisStore (the anchor and key layout) --------------------------------------------

    def _gos_args(self, experiment: str, unit_id: str, variant: str, ttl_s: float | None) -> tuple[Any, ...]:
        raise NotImplementedError

    def _claimed(self, experiment: str, reply: list[Any]) -> tuple[str, bool]:
        raise NotImplementedError

    def _state_args(self, experiment: str) -> tuple[Any, ...]:
        raise NotImplementedError

    def _anchored(self, experiment: str, epoch: Any, loss: Any) -> StoreLoss | None:
        raise NotImplementedError

    # -- batches -----------------------------------------------------------------------------------------

    def _run(self, sha: str, keys: int, argv: list[tuple[Any, ...]]) -> list[Any]:
        client = self._sync()
        try:
            replies = _pipelined(client, sha, keys, argv)
        except ERRORS as exc:
            raise self._unavailable(exc) from exc
        return self._checked(replies)

    async def _arun(self, sha: str, keys: int, argv: list[tuple[Any, ...]]) -> list[Any] | None:
        client = self._aclient()
        if client is None:
            return None
        try:
            replies = await _apipelined(client, sha, keys, argv)
        except ERRORS as exc:
            raise self._unavailable(exc) from exc
        return self._checked(replies)

    def _checked(self, replies: list[Any]) -> list[Any]:
        for reply in replies:
            if isinstance(reply, BaseException):
                raise self._unavailable(reply) from reply
        return replies

    def _assigned(self, wanted: Sequence[Wanted], replies: list[Any]) -> list[tuple[str, bool] | StoreLoss]:
        out: list[tuple[str, bool] | StoreLoss] = []
        for (experiment, *_), reply in zip(wanted, replies, strict=True):
            try:
                out.append(self._claimed(experiment, reply))
            except StoreLost as lost:
                out.append(lost.loss)
        return out

    def get_or_set_many(self, wanted: Sequence[Wanted]) -> list[tuple[str, bool] | StoreLoss]:
        """``get_or_set`` of several (experiment, unit, variant, ttl) in one pipelined round trip.

        Each answer is ``(held, created)`` or its experiment's ``StoreLoss`` (returned, not raised: the other
        answers stand); any Redis error raises ``StoreUnavailable`` for the whole batch."""
        argv = [self._gos_args(e, u, v, t) for e, u, v, t in wanted]
        return self._assigned(wanted, self._run(GET_OR_SET_SHA, 3, argv))

    async def aget_or_set_many(self, wanted: Sequence[Wanted]) -> list[tuple[str, bool] | StoreLoss]:
        """Async twin of ``get_or_set_many``."""
        argv = [self._gos_args(e, u, v, t) for e, u, v, t in wanted]
        replies = await self._arun(GET_OR_SET_SHA, 3, argv)
        if replies is None:
            return await asyncio.to_thread(self.get_or_set_many, wanted)
        return self._assigned(wanted, replies)

    def _states(self, experiments: Sequence[str], replies: list[Any]) -> list[StateRead]:
        out: list[StateRead] = []
        for experiment, (version, data, epoch, loss) in zip(experiments, replies, strict=True):
            state = decode_state(int(version), data) if version and data else None
            out.append((state, self._anchored(experiment, epoch, loss)))
        return out

    def read_state_many(self, experiments: Sequence[str]) -> list[StateRead]:
        """``read_state`` of several experiments in one pipelined round trip."""
        argv = [self._state_args(e) for e in experiments]
        return self._states(experiments, self._run(READ_STATE_SHA, 2, argv))

    async def aread_state_many(self, experiments: Sequence[str]) -> list[StateRead]:
        """Async twin of ``read_state_many``."""
        argv = [self._state_args(e) for e in experiments]
        replies = await self._arun(READ_STATE_SHA, 2, argv)
        if replies is None:
            return await asyncio.to_thread(self.read_state_many, experiments)
        return self._states(experiments, replies)
