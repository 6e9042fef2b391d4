"""Which assignments a model call follows: found without payload plumbing, corrected by the live state.

``call_routing(state, config)`` looks, in order, for the unit's assignments in:

1. the state's ``routing`` channel (the routing node wrote it; a checkpointer kept it);
2. the graph's own ``routing`` channel, read through the running task — a ``Send`` branch whose small payload
   lacks the routing keys still gets the unit's variant;
3. the routing inherited from the caller: a sub-agent invoked from a tool of a routed agent (the
   ``RoutingMiddleware`` wraps each tool call), or code inside ``with inherited_routing(state):``;
4. the routing a routing node last wrote for this run's ``thread_id`` (kept in memory for the last
   ``THREAD_MEMORY`` threads): subgraphs with a state of their own, in any app with a checkpointer;
5. a routing node that knows the experiment: it decides from the unit id where the YAML says it lives
   (``thread_id`` and run-context units are visible to every subgraph and sub-agent of the run).

A node built with ``agents=`` decides only the experiments scoped to those agents; when another agent calls a
model, the experiments scoped to it that no record holds are decided at that call (logged once).

Then the **live state wins**: each record is re-checked against its experiment's live state (cached for the
node's ``state_refresh_s``), so after a rollback, pause, stop or ship the next model call of a checkpointed
thread or a resumed ``interrupt()`` follows the new state, with reason ``rolled_back`` / ``shipped`` —
traced, never observed, like every unit a rollback placed.
"""

from __future__ import annotations

__all__ = [
    "THREAD_MEMORY",
    "acall_routing",
    "afound_routing",
    "call_routing",
    "found_routing",
    "inherited_routing",
    "live",
    "register_router",
    "remember_thread",
    "router_defaults",
    "router_for",
]

import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig

from routing_agent.assignment.types import Assignment
from routing_agent.graph.state import ROUTING_KEY, clean_routing
from routing_agent.graph.units import current_config, read_field

if TYPE_CHECKING:
    from routing_agent.graph.node import RoutingNode

_routers: dict[str, weakref.ref[RoutingNode]] = {}
_partial: weakref.WeakSet[RoutingNode] = weakref.WeakSet()  # nodes whose ``agents=`` leave experiments out
_lock = threading.Lock()
logger = logging.getLogger("routing_agent.routing")

THREAD_MEMORY = 10_000
"""How many threads' routing a process remembers for their subgraphs (least recently written go first)."""
_threads: OrderedDict[str, dict[str, Assignment]] = OrderedDict()
_inherited: ContextVar[Mapping[str, Assignment] | None] = ContextVar("routing_agent_inherited", default=None)


def register_router(node: RoutingNode) -> None:
    """Make ``node`` the router of its experiments in this process (the latest node wins)."""
    ref = weakref.ref(node)
    with _lock:
        for spec in node.config.experiments:
            _routers[spec.id] = ref
        if node.leaves_out:
            _partial.add(node)
        else:
            _partial.discard(node)


def router_for(experiment: str) -> RoutingNode | None:
    """The live routing node that routes ``experiment`` in this process, or None."""
    ref = _routers.get(experiment)
    return ref() if ref is not None else None


def _live_routers() -> list[RoutingNode]:
    with _lock:
        refs = list(_routers.values())
    found: list[RoutingNode] = []
    for ref in refs:
        node = ref()
        if node is not None and all(node is not other for other in found):
            found.append(node)
    return found


@contextmanager
def inherited_routing(source: Any) -> Iterator[None]:
    """Let every model call inside the block (sub-agents, subgraphs) inherit ``source``'s routing.

    ``source`` is a state holding the ``routing`` channel, or the routing mapping itself.
    """
    routing = clean_routing(read_field(source, ROUTING_KEY) if not _is_routing(source) else source)
    token = _inherited.set(routing if routing else _inherited.get())
    try:
        yield
    finally:
        _inherited.reset(token)


def _is_routing(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and ROUTING_KEY not in value
        and all(isinstance(v, Mapping) and "experiment" in v for v in value.values())
    )


def _thread_id(config: RunnableConfig | None) -> str | None:
    thread = (config or {}).get("configurable", {}).get("thread_id")
    return str(thread) if thread is not None and thread != "" else None


def remember_thread(config: RunnableConfig | None, routing: Mapping[str, Assignment]) -> None:
    """Keep ``routing`` as the routing of the run's thread (no-op without a thread id)."""
    thread = _thread_id(config)
    if thread is None or not routing:
        return
    with _lock:
        _threads[thread] = {**_threads.get(thread, {}), **routing}
        _threads.move_to_end(thread)
        while len(_threads) > THREAD_MEMORY:
            _threads.popitem(last=False)


def _graph_channel(config: RunnableConfig | None) -> Any:
    read = (config or {}).get("configurable", {}).get("__pregel_read")  # the running task's reader
    if read is None:
        return None
    try:
        return read(ROUTING_KEY, False)
    except Exception:  # the graph has no routing channel
        return None


def _recorded(state: Any, config: RunnableConfig | None) -> dict[str, Assignment]:
    """Rules 1–4 of the module docstring (no I/O)."""
    routing = clean_routing(read_field(state, ROUTING_KEY))
    if routing:
        return routing
    routing = clean_routing(_graph_channel(config))
    if routing:
        return routing
    inherited = _inherited.get()
    if inherited:
        return dict(inherited)
    thread = _thread_id(config)
    if thread is None:
        return {}
    with _lock:
        return dict(_threads.get(thread) or {})


def found_routing(state: Any, config: RunnableConfig | None) -> dict[str, Assignment]:
    """The unit's recorded assignments (rules 1–5 of the module docstring), before the live state."""
    routing = clean_routing(read_field(state, ROUTING_KEY))
    if routing:  # the common case: no config needed
        return routing
    config = current_config(config)
    found = _recorded(state, config)
    if not found:
        for node in _live_routers():
            for experiment, record in node.decide_all(state, config).items():
                found.setdefault(experiment, record)
    return found


async def afound_routing(state: Any, config: RunnableConfig | None) -> dict[str, Assignment]:
    """Async twin of ``found_routing``."""
    config = current_config(config)
    found = _recorded(state, config)
    if not found:
        for node in _live_routers():
            for experiment, record in (await node.adecide_all(state, config)).items():
                found.setdefault(experiment, record)
    return found


def live(record: Assignment) -> Assignment:
    """``record`` as the experiment's live state has it now (the record itself when nothing changed)."""
    experiment = record.get("experiment") if isinstance(record, Mapping) else None
    node = router_for(experiment) if isinstance(experiment, str) else None
    return record if node is None else node.live_record(record)


def call_routing(
    state: Any, config: RunnableConfig | None = None, *, agent: str | None = None
) -> dict[str, Assignment]:
    """The assignments the current model call must follow (see the module docstring).

    When none is found although a routing node runs in this process, the call cannot be in any experiment:
    that is logged once per agent (with what to declare), never silently.
    """
    found = found_routing(state, config)
    if _partial and agent is not None:
        for node in list(_partial):
            found = _merged(node, found, node.decide_skipped(agent, state, current_config(config), found))
    if not found:
        _warn_unrouted(agent)
    return {experiment: live(record) for experiment, record in found.items()}


async def acall_routing(
    state: Any, config: RunnableConfig | None = None, *, agent: str | None = None
) -> dict[str, Assignment]:
    """Async twin of ``call_routing`` (the store's async client)."""
    found = await afound_routing(state, config)
    if _partial and agent is not None:
        for partial in list(_partial):
            extra = await partial.adecide_skipped(agent, state, current_config(config), found)
            found = _merged(partial, found, extra)
    if not found:
        _warn_unrouted(agent)
    out: dict[str, Assignment] = {}
    for experiment, record in found.items():
        name = record.get("experiment") if isinstance(record, Mapping) else None
        node = router_for(name) if isinstance(name, str) else None
        out[experiment] = record if node is None else await node.alive_record(record)
    return out


def _merged(
    node: RoutingNode, found: dict[str, Assignment], extra: dict[str, Assignment]
) -> dict[str, Assignment]:
    """``found`` plus ``extra`` in the node's config order (the first enrolled record routes an agent)."""
    if not extra:
        return found
    merged = {**found, **extra}
    order = node.position
    return {k: merged[k] for k in sorted(merged, key=lambda k: order.get(k, -1))}


_unrouted: set[str | None] = set()


def _warn_unrouted(agent: str | None) -> None:
    if agent in _unrouted:
        return
    nodes = _live_routers()
    if not nodes:
        return
    _unrouted.add(agent)
    keys = sorted(
        {
            s.unit_source if s.unit_source != "state" else s.state_key
            for n in nodes
            for s in n.config.experiments
        }
    )
    logger.warning(
        "agent '%s' found no routing: its state has no 'routing' channel, its graph none, no caller "
        "passed one and the run holds no unit id (%s); it runs its default model, in no experiment. Add "
        "'routing: Routing' (and the unit key) to its state, or use unit_source: thread_id / context",
        agent,
        ", ".join(keys),
    )


def router_defaults() -> dict[str, Any]:
    """The YAML agent defaults of the routers in this process (for states without ``routing_defaults``)."""
    merged: dict[str, Any] = {}
    for node in _live_routers():
        merged.update(node.defaults)
    return merged
