"""``RoutingNode``: an ordinary LangGraph node that resolves every experiment once per unit.

Put it first in the graph. It reads the unit id where each experiment's YAML says it lives (a state key,
``session_id`` by default; the LangGraph ``thread_id``; a run-context field — see ``graph.units``),
decides each applicable experiment through the ``Assigner`` (hash, sticky store, live state), and writes
``state["routing"]``. It never raises into the user's graph: a missing unit id, a store outage or an
unexpected error routes to a documented fallback with its reason recorded and counted.

Unit ids are text: a ``str``, an ``int``, a ``uuid.UUID`` or UTF-8 ``bytes`` (converted once). Anything
else (a float, a bool, a dict, an object whose ``str()`` holds a memory address), text that is not valid
Unicode, or an id longer than ``MAX_UNIT_ID_CHARS`` is refused: the unit gets the default model with reason
``no_unit_id``, counted and logged once, so a malformed id can never make an unstable or hostile unit.

``reload(path_or_config)`` swaps the experiments atomically; an invalid config keeps the running ones.
"""

from __future__ import annotations

__all__ = ["MAX_UNIT_ID_CHARS", "ExperimentsLike", "ReloadResult", "RoutingNode", "StoreLike"]

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig

from routing_agent.assignment.assigner import Assigner, RoutingDecision
from routing_agent.assignment.counters import RoutingCounters
from routing_agent.assignment.guard import OutagePolicy
from routing_agent.assignment.types import Assignment, Reason
from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec, Unit
from routing_agent.graph.inputs import AgentScope, ExperimentsLike, StoreLike, as_config, as_store
from routing_agent.graph.resolution import register_router, remember_thread
from routing_agent.graph.state import DEFAULTS_KEY, ROUTING_KEY, agent_defaults, clean_routing
from routing_agent.graph.units import (
    MAX_UNIT_ID_CHARS,
    attribute_lookup,
    segment_text,
    unit_source_value,
    unit_text,
)

logger = logging.getLogger("routing_agent.routing")


@dataclass(frozen=True)
class ReloadResult:
    """The outcome of ``RoutingNode.reload``: what runs now, what changed, or why nothing did."""

    ok: bool
    experiments: tuple[str, ...]
    """Ids of the experiments running after the call (the old ones when ``ok`` is False)."""
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    error: str | None = None
    """Why the new config was refused (every problem, with file:line for YAML)."""


def _read(state: Any, key: str) -> Any:
    if isinstance(state, Mapping):
        return state.get(key)
    return getattr(state, key, None)


class RoutingNode(Runnable[Any, dict[str, Any]]):
    """Resolves each experiment once per unit and writes ``state["routing"]``.

    Args:
        experiments: a loaded ``ExperimentsConfig``, spec(s), or a YAML path (file or folder).
        store: an ``AssignmentStore``, a SQLite file path, ``sqlite:///…``, ``redis://…``, ``memory://``;
            ``None`` keeps assignments in this process only (memory).
        unit_key: state key holding the unit id for experiments whose YAML sets no ``unit_key``.
        state_refresh_s: how long a worker caches an experiment's live state (rollback reaches every
            worker within this period).
        outage: how a store outage is ridden out (back-off, write-back bound); ``OutagePolicy()`` if None.
        agents: the agents this graph runs. Experiments scoped to none of them are neither decided nor
            written to ``state["routing"]`` (routing costs what applies, not every experiment in the YAML);
            None decides every experiment. An agent left out that still calls ``routed_model`` gets its
            experiments decided at that call (logged once: add it to ``agents``).
    """

    def __init__(
        self,
        experiments: ExperimentsLike,
        store: StoreLike = None,
        *,
        unit_key: str | None = None,
        state_refresh_s: float = 1.0,
        name: str = "route",
        outage: OutagePolicy | None = None,
        agents: Iterable[str] | None = None,
    ) -> None:
        self.config = as_config(experiments)
        self.agents = None if agents is None else frozenset(agents)
        self._scope = AgentScope(self.config, self.agents)
        self.store = as_store(store)
        self.unit_key = unit_key
        self.name = name
        self.counters = RoutingCounters()
        self.assigner = Assigner(
            self.config, self.store, counters=self.counters, state_refresh_s=state_refresh_s, outage=outage
        )
        self._warned: set[tuple[str, str]] = set()
        self._reload_error: str | None = None
        self._defaults = agent_defaults(self.config)
        self._specs: tuple[ExperimentsConfig, dict[str, ExperimentSpec]] = (
            self.config,
            {s.id: s for s in self.config.experiments},
        )  # id → spec of the config it was built from
        if self.config.simulated_profiles:
            from routing_agent.providers.profiles import register_profiles

            register_profiles(
                self.config.simulated_profiles, source=",".join(self.config.sources) or "<config>"
            )
        register_router(self)

    # -- Runnable ----------------------------------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        """Resolve every applicable experiment not yet resolved for this unit (sync)."""
        todo = self._todo(input, config)
        updates = self._records(todo, self._decide(todo, input, config), input) if todo else {}
        return self._output(input, updates, config)

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Async twin of ``invoke`` (uses the store's async client)."""
        todo = self._todo(input, config)
        updates = self._records(todo, await self._adecide(todo, input, config), input) if todo else {}
        return self._output(input, updates, config)

    def decide_all(self, state: Any, config: RunnableConfig | None = None) -> dict[str, Assignment]:
        """Assignments of the experiments whose unit id ``state`` / ``config`` holds (state is not written).

        Experiments without that unit id are left out (not decided, not counted): this is the fallback of a
        model call that found no routing, not a routing node run.
        """
        todo = self._present_units(state, config, self._scope.applicable)
        return self._records(todo, self._decide(todo, state, config), state)

    async def adecide_all(self, state: Any, config: RunnableConfig | None = None) -> dict[str, Assignment]:
        """Async twin of ``decide_all``."""
        todo = self._present_units(state, config, self._scope.applicable)
        return self._records(todo, await self._adecide(todo, state, config), state)

    @property
    def position(self) -> Mapping[str, int]:
        """Each experiment's place in the config (records follow it: the first enrolled one routes)."""
        return self._scope.position

    @property
    def leaves_out(self) -> bool:
        """Whether ``agents=`` leaves some experiment of the config undecided by this node."""
        return self._scope.skips

    def skipped_for(self, agent: str | None, known: Mapping[str, Any]) -> tuple[ExperimentSpec, ...]:
        """Experiments applying to ``agent`` that this node does not decide (``agents=`` left it out)."""
        return tuple(s for s in self._scope.skipped_for(agent) if s.id not in known)

    def decide_skipped(
        self, agent: str | None, state: Any, config: RunnableConfig | None, known: Mapping[str, Any]
    ) -> dict[str, Assignment]:
        """Decide, at a model call of ``agent``, the experiments ``agents=`` left out (logged once)."""
        todo = self._skipped_todo(agent, state, config, known)
        return self._records(todo, self._decide(todo, state, config), state)

    async def adecide_skipped(
        self, agent: str | None, state: Any, config: RunnableConfig | None, known: Mapping[str, Any]
    ) -> dict[str, Assignment]:
        """Async twin of ``decide_skipped``."""
        todo = self._skipped_todo(agent, state, config, known)
        return self._records(todo, await self._adecide(todo, state, config), state)

    def _skipped_todo(
        self, agent: str | None, state: Any, config: RunnableConfig | None, known: Mapping[str, Any]
    ) -> list[tuple[ExperimentSpec, str | None]]:
        specs = self.skipped_for(agent, known)
        if specs:
            self._warn_once(
                specs[0].id,
                f"skipped:{agent}",
                f"agent '{agent}' calls a model but is not in RoutingNode(agents=...); its experiments are "
                "decided at each of its model calls instead of once per unit. Add it to agents",
            )
        return self._present_units(state, config, specs)

    def _todo(self, state: Any, config: RunnableConfig | None) -> list[tuple[ExperimentSpec, str | None]]:
        existing = clean_routing(_read(state, ROUTING_KEY))
        todo: list[tuple[ExperimentSpec, str | None]] = []
        ids: dict[tuple[str, str], str | None] = {}  # experiments reading the same unit id read it once
        for spec in self._scope.applicable:
            if spec.unit is Unit.REQUEST:
                unit_id = self._unit_id(spec, state, config)
            else:
                where = (spec.unit_source, spec.unit_key or self.unit_key or spec.state_key)
                unit_id = (
                    ids[where] if where in ids else ids.setdefault(where, self._unit_id(spec, state, config))
                )
            if not self._already(existing, spec, unit_id):
                todo.append((spec, unit_id))
        return todo

    def _decide(
        self, todo: list[tuple[ExperimentSpec, str | None]], state: Any, config: RunnableConfig | None
    ) -> list[RoutingDecision]:
        if not todo:
            return []
        lookup = attribute_lookup(state, config)
        try:
            return self.assigner.decide_many(todo, lookup)
        except Exception:  # never crash the user's graph: one experiment at a time, errors recorded
            return [self._one(spec, unit_id, lookup) for spec, unit_id in todo]

    def _one(self, spec: ExperimentSpec, unit_id: str | None, lookup: Any) -> RoutingDecision:
        try:
            return self.assigner.decide(spec, unit_id, lookup)
        except Exception as exc:
            return self._internal_error(spec, exc)

    async def _adecide(
        self, todo: list[tuple[ExperimentSpec, str | None]], state: Any, config: RunnableConfig | None
    ) -> list[RoutingDecision]:
        if not todo:
            return []
        lookup = attribute_lookup(state, config)
        try:
            return await self.assigner.adecide_many(todo, lookup)
        except Exception:
            out = []
            for spec, unit_id in todo:
                try:
                    out.append(await self.assigner.adecide(spec, unit_id, lookup))
                except Exception as exc:
                    out.append(self._internal_error(spec, exc))
            return out

    def _records(
        self, todo: list[tuple[ExperimentSpec, str | None]], decisions: list[RoutingDecision], state: Any
    ) -> dict[str, Assignment]:
        return {
            spec.id: self._record(spec, unit_id, decision, state)
            for (spec, unit_id), decision in zip(todo, decisions, strict=True)
        }

    def _present_units(
        self, state: Any, config: RunnableConfig | None, specs: Sequence[ExperimentSpec]
    ) -> list[tuple[ExperimentSpec, str | None]]:
        found: list[tuple[ExperimentSpec, str | None]] = []
        for spec in specs:
            key = spec.unit_key or self.unit_key or spec.state_key
            if unit_source_value(spec, state, config, key) not in (None, ""):
                found.append((spec, self._unit_id(spec, state, config, quiet=True)))
        return found

    def live_record(self, record: Assignment) -> Assignment:
        """``record`` (e.g. from a checkpoint) as the experiment's live state has it now."""
        spec = self._spec(record)
        if spec is None:
            return record
        try:
            decision = self.assigner.live_decision(spec, record)
        except Exception as exc:  # never crash the user's graph: keep the recorded assignment
            self._internal_error(spec, exc)
            return record
        return self._relived(spec, record, decision)

    async def alive_record(self, record: Assignment) -> Assignment:
        """Async twin of ``live_record``."""
        spec = self._spec(record)
        if spec is None:
            return record
        try:
            decision = await self.assigner.alive_decision(spec, record)
        except Exception as exc:
            self._internal_error(spec, exc)
            return record
        return self._relived(spec, record, decision)

    def _spec(self, record: Assignment) -> ExperimentSpec | None:
        config = self.config
        if self._specs[0] is not config:
            self._specs = (config, {s.id: s for s in config.experiments})
        return self._specs[1].get(record["experiment"])

    def _relived(
        self, spec: ExperimentSpec, record: Assignment, decision: RoutingDecision | None
    ) -> Assignment:
        if decision is None:
            return record
        return self.assigner.assignment(spec, record.get("unit_id"), decision, record.get("segments") or {})

    @property
    def defaults(self) -> dict[str, Any]:
        """The YAML's per-agent default models (``"*"`` = ``default_model``)."""
        return dict(self._defaults)

    # -- helpers -----------------------------------------------------------------------------------

    def _output(
        self, state: Any, updates: dict[str, Assignment], config: RunnableConfig | None = None
    ) -> dict[str, Any]:
        remember_thread(config, {**clean_routing(_read(state, ROUTING_KEY)), **updates})
        out: dict[str, Any] = {ROUTING_KEY: updates} if updates else {}
        if _read(state, DEFAULTS_KEY) != self._defaults:
            out[DEFAULTS_KEY] = self._defaults
        return out

    def _unit_id(
        self, spec: ExperimentSpec, state: Any, config: RunnableConfig | None = None, *, quiet: bool = False
    ) -> str | None:
        key = spec.unit_key or self.unit_key or spec.state_key
        value = unit_source_value(spec, state, config, key)
        if value is None or (type(value) is str and value == ""):
            if spec.unit is Unit.REQUEST:
                return uuid.uuid4().hex  # every request is its own unit
            if not quiet:
                why = self._missing(spec, state, key)
                self._warn_once(spec.id, "no_unit_id", f"{why}; routing to the default model")
            return None
        try:
            text, problem = unit_text(value)
        except Exception:  # a hostile object (raising __str__, __eq__ …): never into the graph
            text, problem = None, f"is a {type(value).__name__} that cannot be read as text"
        if problem is not None:
            self._warn_once(
                spec.id, "bad_unit_id", f"the unit id in '{key}' {problem}; routing to the default model"
            )
        return text

    @staticmethod
    def _missing(spec: ExperimentSpec, state: Any, key: str) -> str:
        if spec.unit_source == "thread_id":
            return "the run has no config['configurable']['thread_id'] (invoke with a thread id)"
        if spec.unit_source == "context":
            return f"the run context has no '{key}' (invoke with context=…)"
        if isinstance(state, Mapping) or hasattr(state, "__dict__"):
            return f"state has no '{key}'"
        return f"state is a {type(state).__name__}, not a mapping with '{key}'"

    @staticmethod
    def _already(existing: Mapping[str, Any], spec: ExperimentSpec, unit_id: str | None) -> bool:
        record = existing.get(spec.id)
        return record is not None and unit_id is not None and record.get("unit_id") == unit_id

    def _record(
        self, spec: ExperimentSpec, unit_id: str | None, decision: RoutingDecision, state: Any
    ) -> Assignment:
        segments = {name: text for name in spec.segments if (text := segment_text(_read(state, name)))}
        return self.assigner.assignment(spec, unit_id, decision, segments)

    def _internal_error(self, spec: ExperimentSpec, exc: Exception) -> RoutingDecision:
        self.counters.event("internal_error")
        self._warn_once(spec.id, "internal_error", f"routing failed ({type(exc).__name__}: {exc})")
        return RoutingDecision(None, Reason.ERROR)

    def _warn_once(self, experiment: str, kind: str, message: str) -> None:
        if (experiment, kind) not in self._warned:
            self._warned.add((experiment, kind))
            logger.warning("experiment '%s': %s", experiment, message)

    def reload(self, experiments: ExperimentsLike) -> ReloadResult:
        """Swap in new experiments (a YAML path, a loaded config or specs) atomically, between decisions.

        On any error (invalid YAML, unreadable file, bad spec) the running experiments keep running; the error
        is returned, logged, counted (store event ``reload_failed``) and kept in ``stats()["reload_error"]``.
        Units keep their stored variants; new weights apply to units not yet assigned.
        """
        old = self.config
        try:
            config = as_config(experiments)
            if config.simulated_profiles:
                from routing_agent.providers.profiles import register_profiles

                register_profiles(config.simulated_profiles, source=",".join(config.sources) or "<config>")
            defaults = agent_defaults(config)
            scope = AgentScope(config, self.agents)
            self.assigner.reconfigure(config)
        except Exception as exc:
            self.counters.event("reload_failed")
            self._reload_error = f"{type(exc).__name__}: {exc}"
            logger.error(
                "config reload refused; the running experiments keep running. %s", self._reload_error
            )
            return ReloadResult(False, tuple(s.id for s in old.experiments), error=self._reload_error)
        self._defaults = defaults
        self.config = config
        self._scope = scope
        self._reload_error = None
        register_router(self)
        self.counters.event("reload")
        before = {s.id: s for s in old.experiments}
        after = {s.id: s for s in config.experiments}
        result = ReloadResult(
            True,
            tuple(after),
            added=tuple(i for i in after if i not in before),
            removed=tuple(i for i in before if i not in after),
            changed=tuple(i for i in after if i in before and after[i] != before[i]),
        )
        logger.info("config reloaded: %s", result)
        return result

    def stats(self) -> dict[str, Any]:
        """Decision counts by experiment and reason, store events, write-backs pending, last reload error."""
        snap = self.counters.snapshot()
        snap["reload_error"] = self._reload_error
        snap["pending_writeback"] = self.assigner.guard.pending if self.assigner.guard else 0
        snap["store_available"] = self.assigner.guard.available if self.assigner.guard else True
        return snap

    def close(self) -> None:
        """Write pending write-backs, retrying for up to ``OutagePolicy.close_flush_s`` (the rest is logged
        and counted as ``writeback_dropped``), then close the store."""
        if self.assigner.guard is not None:
            self.assigner.guard.drain()
            self.assigner.guard.abandon("the routing node was closed")
        self.store.close()
