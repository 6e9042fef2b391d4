"""Decide a unit's variant for one experiment: live state, window, namespace, hash, sticky store.

The order of the rules (first match wins):

1. no unit id in state → not enrolled, reason ``no_unit_id``;
2. live state ``rolled_back`` → control; ``shipped`` → the winner; ``stopped`` → not enrolled; a ship limited
   to a segment → the winner for matching units, control for the others (the match is re-evaluated at
   ``routed_model`` time: the record carries the rule in ``targeted``, so a segment the graph learns after
   routing — a classifier's category — still moves the unit's later model calls);
3. before ``start`` / after ``end`` → not enrolled (``not_started`` / ``ended``);
4. outside the namespace range → not enrolled (``not_enrolled``); then the first YAML ``targeting`` rule
   whose conditions all hold (state, then run context) → its variant (``targeted``, never observed) or not
   enrolled (``excluded``); a rule whose attribute is not known at routing time does not match (a
   randomized unit never changes arm mid-session);
5. ``paused`` → the stored variant if the unit has one (``sticky``), else not enrolled (``paused``);
6. the GrowthBook v2 hash picks a range; outside coverage → the stored variant if any, else not enrolled
   (a ``ramp`` sets the coverage of its live step: ranges only grow, so no enrolled unit changes variant);
7. inside: sticky get-or-set in the store → ``hashed`` (first time) or ``sticky`` (stored earlier, which
   wins even when weights changed since); store unavailable → the hashed variant, ``store_unavailable``.

Before rule 2: a store that lost the experiment's data (``GuardedStore.lost``) → control, ``store_lost``,
whatever the state or the unit (the lost state may have been a rollback; a lost unit key may hide a variant).

Request-unit experiments never touch the store: every request is a new unit.
"""

from __future__ import annotations

__all__ = [
    "RAMP_STEP",
    "SHIP_SEGMENT",
    "Assigner",
    "RoutingDecision",
    "enrolment",
    "ramp_step",
    "ship_segment",
]

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from routing_agent.assignment.compiled import CompiledSpec
from routing_agent.assignment.counters import RoutingCounters
from routing_agent.assignment.guard import GuardedStore, OutagePolicy, Wanted
from routing_agent.assignment.hashing import bucket_ranges, choose_variation, hash_v2, in_namespace
from routing_agent.assignment.live_state import RAMP_STEP, SHIP_SEGMENT, enrolment, ramp_step, ship_segment
from routing_agent.assignment.types import Assignment, Reason
from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec, ExperimentStatus, Unit
from routing_agent.config.targeting import Conditions, matches
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.loss import StoreLoss
from routing_agent.stores.assignments.state import ExperimentState


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """The outcome before it is turned into an ``Assignment``: variant (None = not enrolled) and reason."""

    variant: str | None
    reason: Reason
    deferred: tuple[tuple[Conditions, str], ...] = field(default=())
    """Rules ``routed_model`` evaluates at call time: (conditions, variant) — a segment-level ship."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the rules say before the store is consulted."""

    decision: RoutingDecision | None  # final when set
    hashed: str | None = None  # the hash's variant when the store must be asked
    read_only: bool = False  # only look the unit up (paused / outside coverage): never write


_IMPOSED = frozenset({ExperimentStatus.ROLLED_BACK, ExperimentStatus.SHIPPED, ExperimentStatus.STOPPED})
_IMPOSED_REASONS = frozenset({Reason.ROLLED_BACK.value, Reason.SHIPPED.value, Reason.STOPPED.value})

Attributes = Callable[[str], Any]
"""``lookup(attribute) -> value or None``: a unit's attributes (state, then run context)."""


def _no_attributes(_: str) -> Any:
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Assigner:
    """Resolves assignments for the experiments of one config against one (guarded) store."""

    def __init__(
        self,
        config: ExperimentsConfig,
        store: AssignmentStore | None,
        *,
        counters: RoutingCounters | None = None,
        state_refresh_s: float = 1.0,
        outage: OutagePolicy | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.counters = counters or RoutingCounters()
        self.guard = (
            GuardedStore(store, self.counters, state_refresh_s=state_refresh_s, outage=outage)
            if store is not None
            else None
        )
        self._now = now
        self._compiled = self._compile(config)

    @staticmethod
    def _compile(config: ExperimentsConfig) -> dict[str, CompiledSpec]:
        return {spec.id: CompiledSpec(spec) for spec in config.experiments}

    def compiled(self, spec: ExperimentSpec) -> CompiledSpec:
        """The spec's precomputed constants (built afresh for a spec of another config, during a reload)."""
        found = self._compiled.get(spec.id)
        return found if found is not None and found.spec is spec else CompiledSpec(spec)

    def reconfigure(self, config: ExperimentsConfig) -> None:
        """Use ``config`` from now on (the store, its write-back queue and the counters stay).

        Decisions already under way finish with the spec they started with: ranges are looked up by spec.
        """
        self._compiled = self._compile(config)
        self.config = config

    def _ranges_for(self, spec: ExperimentSpec, coverage: float | None = None) -> list[tuple[float, float]]:
        if coverage is not None and coverage != spec.coverage:
            return bucket_ranges(spec.weights, coverage)  # a ramp step
        return self.compiled(spec).ranges

    # -- rules ---------------------------------------------------------------------------------------

    def _live_status(self, spec: ExperimentSpec, state: ExperimentState | None) -> ExperimentState:
        return state if state is not None else self.compiled(spec).config_state

    def _plan(
        self,
        spec: ExperimentSpec,
        unit_id: str | None,
        live: ExperimentState,
        attributes: Attributes = _no_attributes,
    ) -> _Plan:
        if not unit_id:
            return _Plan(RoutingDecision(None, Reason.NO_UNIT_ID))
        if live.status is ExperimentStatus.ROLLED_BACK:
            return _Plan(RoutingDecision(spec.control.name, Reason.ROLLED_BACK))
        if live.status is ExperimentStatus.SHIPPED:
            winner = live.winner if live.winner in {v.name for v in spec.variants} else spec.control.name
            segment = ship_segment(live)
            if segment and winner != spec.control.name:
                hit = matches(segment, attributes)
                chosen = winner if hit else spec.control.name
                return _Plan(RoutingDecision(chosen, Reason.SHIPPED, ((segment, winner),)))
            return _Plan(RoutingDecision(winner, Reason.SHIPPED))
        if live.status is ExperimentStatus.STOPPED:
            return _Plan(RoutingDecision(None, Reason.STOPPED))
        now = self._now()
        if spec.start is not None and now < _aware(spec.start):
            return _Plan(RoutingDecision(None, Reason.NOT_STARTED))
        if spec.end is not None and now >= _aware(spec.end):
            return _Plan(RoutingDecision(None, Reason.ENDED))
        ns = spec.namespace
        if ns is not None and not in_namespace(unit_id, ns.name, ns.range[0], ns.range[1]):
            return _Plan(RoutingDecision(None, Reason.NOT_ENROLLED))
        for rule in spec.targeting:  # inside the namespace: mutual exclusion holds for targeted units too
            if matches(rule.when, attributes):
                if rule.variant is None:
                    return _Plan(RoutingDecision(None, Reason.EXCLUDED))
                return _Plan(RoutingDecision(rule.variant, Reason.TARGETED))
        if live.status is ExperimentStatus.PAUSED:
            return _Plan(None, read_only=True)
        coverage = enrolment(spec, live) if spec.ramp is not None else None
        index = choose_variation(hash_v2(spec.seed, unit_id), self._ranges_for(spec, coverage))
        if index < 0:
            return _Plan(None, read_only=True)
        hashed = spec.variants[index].name
        if spec.unit is Unit.REQUEST or self.guard is None:
            return _Plan(RoutingDecision(hashed, Reason.HASHED))
        return _Plan(None, hashed=hashed)

    @staticmethod
    def _read_only_miss(live: ExperimentState) -> RoutingDecision:
        return RoutingDecision(
            None, Reason.PAUSED if live.status is ExperimentStatus.PAUSED else Reason.NOT_ENROLLED
        )

    def _ttl(self, spec: ExperimentSpec) -> float | None:
        return self.compiled(spec).ttl_s

    # -- sync / async resolution ---------------------------------------------------------------------

    def _lost(self, spec: ExperimentSpec, unit_id: str | None) -> RoutingDecision | None:
        if self.guard is None or not unit_id or self.guard.lost(spec.id) is None:
            return None
        return RoutingDecision(spec.control.name, Reason.STORE_LOST)

    def _staged(
        self, spec: ExperimentSpec, unit_id: str | None, state: ExperimentState | None, attributes: Attributes
    ) -> tuple[RoutingDecision | None, _Plan, ExperimentState]:
        """The counted decision when the rules alone decide, else the plan that needs the store."""
        live = self._live_status(spec, state)
        lost = self._lost(spec, unit_id)
        if lost is not None:
            return self._count(spec, lost), _Plan(lost), live
        plan = self._plan(spec, unit_id, live, attributes)
        if plan.decision is not None:
            return self._count(spec, plan.decision), plan, live
        if plan.read_only and spec.unit is Unit.REQUEST:
            return self._count(spec, self._read_only_miss(live)), plan, live
        return None, plan, live

    def _looked_up(
        self, spec: ExperimentSpec, live: ExperimentState, found: tuple[bool, str | None]
    ) -> RoutingDecision:
        answered, stored = found
        if stored is not None:
            return self._count(spec, RoutingDecision(stored, Reason.STICKY))
        return self._count(spec, self._read_only_miss(live) if answered else self._unavailable_miss())

    def decide(
        self, spec: ExperimentSpec, unit_id: str | None, attributes: Attributes | None = None
    ) -> RoutingDecision:
        """The decision for one unit (sync); ``attributes`` feeds targeting rules and segment ships."""
        return self.decide_many([(spec, unit_id)], attributes)[0]

    async def adecide(
        self, spec: ExperimentSpec, unit_id: str | None, attributes: Attributes | None = None
    ) -> RoutingDecision:
        """The decision for one unit (async twin of ``decide``)."""
        return (await self.adecide_many([(spec, unit_id)], attributes))[0]

    def decide_many(
        self, items: Sequence[tuple[ExperimentSpec, str | None]], attributes: Attributes | None = None
    ) -> list[RoutingDecision]:
        """The decisions of several experiments for their units (sync), in order.

        On a store that batches (Redis), the stale live states are read in one round trip and the sticky
        get-or-sets of every experiment in one more, however many experiments apply.
        """
        guard, lookup = self.guard, attributes or _no_attributes
        states = guard.get_states([s.id for s, u in items if u]) if guard is not None else {}
        out: list[RoutingDecision | None] = []
        wanted: list[Wanted] = []
        asks: list[tuple[int, ExperimentSpec, str]] = []
        for spec, unit_id in items:
            done, plan, live = self._staged(spec, unit_id, states.get(spec.id) if unit_id else None, lookup)
            if done is None:
                assert guard is not None and unit_id
                if plan.read_only:
                    done = self._looked_up(spec, live, guard.get(spec.id, unit_id))
                else:
                    assert plan.hashed is not None
                    asks.append((len(out), spec, plan.hashed))
                    wanted.append((spec.id, unit_id, plan.hashed, self._ttl(spec)))
            out.append(done)
        if asks:
            assert guard is not None
            for (i, spec, hashed), result in zip(asks, guard.get_or_set_many(wanted), strict=True):
                out[i] = self._count(spec, self._from_store(spec, hashed, result))
        return cast("list[RoutingDecision]", out)

    async def adecide_many(
        self, items: Sequence[tuple[ExperimentSpec, str | None]], attributes: Attributes | None = None
    ) -> list[RoutingDecision]:
        """Async twin of ``decide_many``."""
        guard, lookup = self.guard, attributes or _no_attributes
        states = await guard.aget_states([s.id for s, u in items if u]) if guard is not None else {}
        out: list[RoutingDecision | None] = []
        wanted: list[Wanted] = []
        asks: list[tuple[int, ExperimentSpec, str]] = []
        for spec, unit_id in items:
            done, plan, live = self._staged(spec, unit_id, states.get(spec.id) if unit_id else None, lookup)
            if done is None:
                assert guard is not None and unit_id
                if plan.read_only:
                    done = self._looked_up(spec, live, await guard.aget(spec.id, unit_id))
                else:
                    assert plan.hashed is not None
                    asks.append((len(out), spec, plan.hashed))
                    wanted.append((spec.id, unit_id, plan.hashed, self._ttl(spec)))
            out.append(done)
        if asks:
            assert guard is not None
            for (i, spec, hashed), result in zip(asks, await guard.aget_or_set_many(wanted), strict=True):
                out[i] = self._count(spec, self._from_store(spec, hashed, result))
        return cast("list[RoutingDecision]", out)

    def _unavailable_miss(self) -> RoutingDecision:
        # Store down while we only needed to look the unit up: not enrolled, but say why.
        self.counters.event("fallback")
        return RoutingDecision(None, Reason.STORE_UNAVAILABLE)

    def _from_store(
        self, spec: ExperimentSpec, hashed: str, result: tuple[str, bool] | StoreLoss | None
    ) -> RoutingDecision:
        if isinstance(result, StoreLoss):
            return RoutingDecision(spec.control.name, Reason.STORE_LOST)
        if result is None:
            self.counters.event("fallback")
            return RoutingDecision(hashed, Reason.STORE_UNAVAILABLE)
        held, created = result
        if held not in self.compiled(spec).names:
            # A stored variant the config no longer declares (arm removed): fall back to the hash.
            return RoutingDecision(hashed, Reason.HASHED)
        return RoutingDecision(held, Reason.HASHED if created else Reason.STICKY)

    def _count(self, spec: ExperimentSpec, decision: RoutingDecision) -> RoutingDecision:
        self.counters.decision(spec.id, decision.reason.value)
        return decision

    # -- live state over a recorded assignment ------------------------------------------------------

    def live_decision(self, spec: ExperimentSpec, record: Assignment) -> RoutingDecision | None:
        """The decision the live state imposes on a recorded (e.g. checkpointed) assignment, or None.

        Rolled back → control, shipped → the winner, stopped → not enrolled, whatever the record says; a
        record placed by one of those states whose experiment runs again (resumed) is decided afresh.
        Running or paused leave a randomized record as it is (a paused experiment keeps its assigned units).
        """
        unit_id = record.get("unit_id")
        if self.guard is None or not unit_id or record.get("reason") == Reason.SHADOW:
            return None  # a shadow/replay run stays pinned to its arm
        imposed, redecide = self._imposed(spec, record, self.guard.get_state(spec.id))
        if self.guard.lost(spec.id) is not None or record.get("reason") == Reason.STORE_LOST:
            return self._relost(spec, record)
        return self.decide(spec, unit_id) if redecide else imposed

    async def alive_decision(self, spec: ExperimentSpec, record: Assignment) -> RoutingDecision | None:
        """Async twin of ``live_decision``."""
        unit_id = record.get("unit_id")
        if self.guard is None or not unit_id or record.get("reason") == Reason.SHADOW:
            return None
        imposed, redecide = self._imposed(spec, record, await self.guard.aget_state(spec.id))
        if self.guard.lost(spec.id) is not None or record.get("reason") == Reason.STORE_LOST:
            return await self._arelost(spec, record)
        return await self.adecide(spec, unit_id) if redecide else imposed

    def _relost(self, spec: ExperimentSpec, record: Assignment) -> RoutingDecision | None:
        """In loss mode a recorded unit goes to control; once the loss is acknowledged, decided afresh."""
        if self._lost(spec, record.get("unit_id")) is None:
            return self.decide(spec, record.get("unit_id"))
        if record.get("reason") == Reason.STORE_LOST and record.get("variant") == spec.control.name:
            return None
        return self._count(spec, RoutingDecision(spec.control.name, Reason.STORE_LOST))

    async def _arelost(self, spec: ExperimentSpec, record: Assignment) -> RoutingDecision | None:
        if self._lost(spec, record.get("unit_id")) is None:
            return await self.adecide(spec, record.get("unit_id"))
        return self._relost(spec, record)

    def _imposed(
        self, spec: ExperimentSpec, record: Assignment, state: ExperimentState | None
    ) -> tuple[RoutingDecision | None, bool]:
        """(the decision the live state imposes, or None; whether the unit must be decided afresh)."""
        reason = record.get("reason")
        if (state.status if state is not None else spec.status) not in _IMPOSED:
            return None, reason in _IMPOSED_REASONS
        live = self._live_status(spec, state)
        if live.status in _IMPOSED:
            decision = self._plan(spec, record.get("unit_id"), live).decision
            if decision is None or (decision.variant == record.get("variant") and decision.reason == reason):
                return None, False
            return self._count(spec, decision), False
        return None, reason in _IMPOSED_REASONS

    # -- assignment records -------------------------------------------------------------------------

    def assignment(
        self,
        spec: ExperimentSpec,
        unit_id: str | None,
        decision: RoutingDecision,
        segments: Mapping[str, Any],
    ) -> Assignment:
        """The plain-data record written into graph state."""
        return self.compiled(spec).record(unit_id, decision, segments)
