"""The ``watch`` loop: evaluate an experiment every N seconds or N new observations, and act on the decision.

* ``rollback`` → applied at once through ``Rollout`` (compare-and-set; never waits for review): every
  worker's routing node sends all units to control on its next state read.
* ``ship`` (and ``no_difference``, whose winner is the cheaper variant) → with ``review: required`` the
  proposal is queued for a person (``ReviewQueue``); otherwise the winner is shipped, bound to the state
  version read before the evaluation (if anything changed meanwhile, nothing is applied and the next tick
  re-evaluates).
* ``segmentation`` with segments where the winner is not worse → queued for review (always: a person decides
  which segments move); approving it ships the winner to those segments only.
* an experiment with a ``ramp`` (``control.ramp``) advances a step while every guardrail holds; ship
  proposals wait for its last step; a rollback applies at any step.
* ``keep_running`` / ``invalid`` → logged (``invalid`` as a warning), nothing changes.
* A terminal state (rolled back, shipped, stopped) ends the loop; ``once`` runs one tick.

The evaluation is injected (``evaluate(spec) -> Decision``; ``AsyncWatcher`` takes an async one), and so is
the observation count (``observation_count() -> int``), so the loop works with any evaluator and store. It is
idempotent and safe on several machines at once: every write is a compare-and-set, a pending review is
shared, and a rollback another watcher already applied is a no-op. Evaluation or store failures are logged,
returned as an ``error`` tick, and retried on the next tick; they never end the loop.
"""

from __future__ import annotations

__all__ = ["AsyncWatcher", "WatchSettings", "Watcher"]

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec, ExperimentStatus
from routing_agent.control.ramp import advance_ramp, check_ramp
from routing_agent.control.review import ReviewQueue
from routing_agent.control.rollout import TERMINAL, Rollout, describe_segment, watch_actor
from routing_agent.control.ticks import TickAction, WatchTick
from routing_agent.errors import RoutingAgentError, StateTransitionError
from routing_agent.evaluation.decision import Decision, DecisionKind
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.state import ExperimentState
from routing_agent.stores.reviews.base import ReviewStatus, ReviewStore

logger = logging.getLogger("routing_agent.control")

Evaluate = Callable[[ExperimentSpec], Decision]
AsyncEvaluate = Callable[[ExperimentSpec], Awaitable[Decision]]
CountSource = Callable[[], int]
AsyncCountSource = Callable[[], int | Awaitable[int]]

_NEEDS_A_PERSON = {"invalid", "segmentation"}  # logged as warnings; watch changes nothing
_LEVEL = {
    TickAction.ROLLED_BACK: logging.WARNING,
    TickAction.ERROR: logging.WARNING,
    TickAction.SKIPPED: logging.WARNING,
}


@dataclass(frozen=True)
class WatchSettings:
    """How a watch loop runs: its cadence, who it acts as, and its review and ship policy.

    Args:
        every_s: evaluate at least this often (seconds); ``None`` with ``every_n`` only.
        every_n: also evaluate as soon as the observation count grew by this much.
        actor: recorded on every change (default ``watch@<hostname>:<pid>``).
        review_cooldown_s: a winner rejected this recently is not queued again (default one day).
        ship_on_no_difference: treat ``no_difference`` as a proposal to ship its (cheaper) winner.
        poll_s: how often the count source and the stop event are checked while waiting.
    """

    every_s: float | None = 30.0
    every_n: int | None = None
    actor: str | None = None
    review_cooldown_s: float = 86_400.0
    ship_on_no_difference: bool = True
    poll_s: float = 1.0

    def __post_init__(self) -> None:
        if self.every_s is None and self.every_n is None:
            raise ValueError("watch needs a cadence: every_s (seconds) and/or every_n (new observations)")
        if self.every_s is not None and self.every_s <= 0:
            raise ValueError(f"every_s must be positive, not {self.every_s!r}")
        if self.every_n is not None and self.every_n < 1:
            raise ValueError(f"every_n must be a positive count, not {self.every_n!r}")


EvaluateT = TypeVar("EvaluateT")  # Evaluate (Watcher) or AsyncEvaluate (AsyncWatcher)
CountT = TypeVar("CountT")  # CountSource or AsyncCountSource


class _Core(Generic[EvaluateT, CountT]):
    """What the sync and async loops share: construction, settings, decision → action, logging.

    Args:
        spec: the experiment to watch.
        store: the shared assignment store (experiment state).
        evaluate: ``evaluate(spec) -> Decision`` (a coroutine function for ``AsyncWatcher``).
        settings: cadence, actor, review cool-down, ship policy (``WatchSettings()`` if None).
        reviews: the review store or queue (default: the one beside ``store``).
        observation_count: ``() -> int``, the count ``settings.every_n`` watches.
        on_tick: called with every tick (the CLI prints them).
        clock: the time recorded on ticks.
    """

    def __init__(
        self,
        spec: ExperimentSpec,
        store: AssignmentStore,
        evaluate: EvaluateT,
        settings: WatchSettings | None = None,
        *,
        reviews: ReviewStore | ReviewQueue | None = None,
        observation_count: CountT | None = None,
        on_tick: Callable[[WatchTick], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        settings = settings or WatchSettings()
        if settings.every_n is not None and observation_count is None:
            raise ValueError("every_n needs an observation_count source")
        self.spec = spec
        self.store = store
        self.evaluate: EvaluateT = evaluate
        self.rollout = Rollout(store, spec)
        if isinstance(reviews, ReviewQueue):
            self.queue = reviews
        else:
            self.queue = ReviewQueue(store, reviews, config=ExperimentsConfig(experiments=(spec,)))
        self.settings = settings
        self.every_s = settings.every_s
        self.every_n = settings.every_n
        self.observation_count: CountT | None = observation_count
        self.actor = settings.actor or watch_actor()
        self.review_cooldown_s = settings.review_cooldown_s
        self.ship_on_no_difference = settings.ship_on_no_difference
        self.poll_s = settings.poll_s
        self.on_tick = on_tick
        self._clock = clock
        self._count_failing = False
        self.ticks = 0

    # -- one tick's parts ----------------------------------------------------------------------------

    def _tick(self, action: TickAction, state: ExperimentState | None, **kw: Any) -> WatchTick:
        return WatchTick(self.spec.id, self._clock(), action, state, **kw)

    def _before(self) -> tuple[ExperimentState | None, WatchTick | None]:
        """The state to evaluate against, or the tick that ends this round (terminal / store error)."""
        try:
            state = self.rollout.current()
        except RoutingAgentError as exc:
            return None, self._tick(TickAction.ERROR, None, message=f"cannot read the state: {exc}")
        if state.status in TERMINAL:
            message = f"experiment is {state.status.value} ({state.actor}: {state.reason}); watch stops"
            return state, self._tick(TickAction.TERMINAL, state, message=message)
        return state, None

    def apply(self, decision: Decision, state: ExperimentState) -> WatchTick:
        """Act on ``decision`` evaluated against ``state`` (see the module docstring)."""
        if decision.experiment != self.spec.id:
            msg = f"the evaluator returned a decision for '{decision.experiment}', not '{self.spec.id}'"
            return self._tick(TickAction.ERROR, state, decision=decision, message=msg)
        evidence = {"decision": decision.to_json()}
        try:
            if decision.kind is DecisionKind.ROLLBACK:
                change = self.rollout.rollback(actor=self.actor, reason=_reason(decision), evidence=evidence)
                return self._tick(
                    TickAction.ROLLED_BACK, change.state, decision=decision, changed=change.applied
                )
            if self.spec.ramp is not None and state.status is ExperimentStatus.RUNNING:
                ramp = check_ramp(self.spec, state, decision, self.store.counts(self.spec.id))
                if not ramp.last:  # ship proposals wait for the last step
                    if not ramp.ready:
                        return self._tick(TickAction.NONE, state, decision=decision, message=ramp.message)
                    new = advance_ramp(
                        self.store, self.spec, state, ramp, actor=self.actor, decision=decision
                    )
                    return self._tick(
                        TickAction.RAMPED, new, decision=decision, changed=True, message=ramp.message
                    )
            if decision.kind is DecisionKind.SEGMENTATION and decision.evidence.get("ship_segment"):
                return self._review(decision, state)  # a person decides which segments move
            proposal = decision.kind is DecisionKind.SHIP or (
                decision.kind is DecisionKind.NO_DIFFERENCE and self.ship_on_no_difference
            )
            if not proposal or decision.winner is None:
                return self._tick(TickAction.NONE, state, decision=decision)
            if self.spec.review == "required":
                return self._review(decision, state)
            change = self.rollout.ship(
                decision.winner,
                actor=self.actor,
                reason=_reason(decision),
                evidence=evidence,
                expected_version=state.version,
            )
            return self._tick(TickAction.SHIPPED, change.state, decision=decision, changed=change.applied)
        except StateTransitionError as exc:
            return self._tick(TickAction.SKIPPED, state, decision=decision, message=str(exc))
        except RoutingAgentError as exc:
            return self._tick(TickAction.ERROR, state, decision=decision, message=f"{exc}")

    def _review(self, decision: Decision, state: ExperimentState) -> WatchTick:
        item, created = self.queue.request(
            self.spec, decision, actor=self.actor, cooldown_s=self.review_cooldown_s
        )
        if item.status is ReviewStatus.REJECTED:
            action, msg = TickAction.REVIEW_REJECTED, _rejected(item.reviewer, item.note)
        else:
            action = TickAction.REVIEW_REQUESTED if created else TickAction.REVIEW_PENDING
            what = f"ship '{item.winner}'"
            segment = decision.evidence.get("ship_segment")
            if decision.kind is DecisionKind.SEGMENTATION and segment:
                what += f" for {describe_segment(segment)} only"
            msg = f"{what} waits for review: routing-agent review approve {item.id}"
        return self._tick(action, state, decision=decision, review=item, message=msg)

    def _failed(self, state: ExperimentState | None, exc: Exception) -> WatchTick:
        logger.debug("watch evaluation of '%s' failed", self.spec.id, exc_info=exc)
        return self._tick(TickAction.ERROR, state, message=f"evaluation failed: {type(exc).__name__}: {exc}")

    def _emit(self, tick: WatchTick) -> WatchTick:
        self.ticks += 1
        level = _LEVEL.get(tick.action, logging.INFO)
        if tick.decision is not None and tick.decision.kind.value in _NEEDS_A_PERSON:
            level = logging.WARNING
        logger.log(level, "%s", tick.line())
        if self.on_tick is not None:
            self.on_tick(tick)
        return tick

    def _count_failed(self, exc: Exception) -> None:
        if not self._count_failing:  # once per failure streak, not once per poll
            self._count_failing = True
            logger.warning("observation count for '%s' failed (%s); waiting on time only", self.spec.id, exc)

    def _due(self, started: float, base: int | None, count: int | None) -> bool:
        if self.every_s is not None and time.monotonic() - started >= self.every_s:
            return True
        return (
            self.every_n is not None
            and base is not None
            and count is not None
            and count - base >= self.every_n
        )

    def _pause(self, started: float) -> float:
        if self.every_s is None:
            return self.poll_s
        return max(0.0, min(self.poll_s, self.every_s - (time.monotonic() - started)))


class Watcher(_Core[Evaluate, CountSource]):
    """The sync watch loop (see the module docstring). ``run()`` blocks; ``tick()`` is one evaluation.

    ``Watcher(spec, store, evaluate, WatchSettings(every_s=30), reviews=…, observation_count=…)``; the
    arguments are those of ``_Core``.
    """

    def tick(self) -> WatchTick:
        """Read the state, evaluate unless terminal, act, log and return what happened."""
        state, done = self._before()
        if done is not None:
            return self._emit(done)
        assert state is not None
        try:
            decision = self.evaluate(self.spec)
        except Exception as exc:  # an evaluation failure is retried next tick, never fatal
            return self._emit(self._failed(state, exc))
        return self._emit(self.apply(decision, state))

    def _count(self) -> int | None:
        if self.observation_count is None:
            return None
        try:
            count = int(self.observation_count())
        except Exception as exc:
            self._count_failed(exc)
            return None
        self._count_failing = False
        return count

    def run(
        self, *, once: bool = False, max_ticks: int | None = None, stop: threading.Event | None = None
    ) -> WatchTick:
        """Tick until a terminal state (or ``once``, ``max_ticks``, ``stop`` set); returns the last tick."""
        while True:
            base = self._count()
            tick = self.tick()
            if once or tick.stop or (max_ticks is not None and self.ticks >= max_ticks):
                return tick
            started = time.monotonic()
            while not self._due(started, base, self._count() if self.every_n else None):
                pause = self._pause(started)
                if stop is not None:
                    if stop.wait(pause):
                        return tick
                else:
                    time.sleep(pause)
            if stop is not None and stop.is_set():
                return tick


class AsyncWatcher(_Core[AsyncEvaluate, AsyncCountSource]):
    """The async twin of ``Watcher``: ``evaluate`` (and optionally ``observation_count``) are coroutines.

    Store calls of the control plane run in a worker thread, so the event loop is never blocked.
    """

    async def tick(self) -> WatchTick:
        """Async twin of ``Watcher.tick``."""
        state, done = await asyncio.to_thread(self._before)
        if done is not None:
            return self._emit(done)
        assert state is not None
        try:
            decision = await self.evaluate(self.spec)
        except Exception as exc:
            return self._emit(self._failed(state, exc))
        return self._emit(await asyncio.to_thread(self.apply, decision, state))

    async def _count(self) -> int | None:
        if self.observation_count is None:
            return None
        try:
            value = self.observation_count()
            count = int(await value if inspect.isawaitable(value) else value)
        except Exception as exc:
            self._count_failed(exc)
            return None
        self._count_failing = False
        return count

    async def run(
        self, *, once: bool = False, max_ticks: int | None = None, stop: asyncio.Event | None = None
    ) -> WatchTick:
        """Async twin of ``Watcher.run``."""
        while True:
            base = await self._count()
            tick = await self.tick()
            if once or tick.stop or (max_ticks is not None and self.ticks >= max_ticks):
                return tick
            started = time.monotonic()
            while not self._due(started, base, await self._count() if self.every_n else None):
                pause = self._pause(started)
                if stop is None:
                    await asyncio.sleep(pause)
                    continue
                try:
                    await asyncio.wait_for(stop.wait(), pause)
                    return tick
                except TimeoutError:
                    pass
            if stop is not None and stop.is_set():
                return tick


def _reason(decision: Decision) -> str:
    if decision.summary:
        return decision.summary
    breached = "; ".join(g.bound for g in decision.breached)
    return f"{decision.kind.value}" + (f": {breached}" if breached else "")


def _rejected(reviewer: str | None, note: str) -> str:
    return f"this winner was rejected by {reviewer}" + (f" ({note})" if note else "") + "; not queued again"
