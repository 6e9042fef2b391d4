"""The outcome API: record the primary metric, or any business outcome, for a unit.

::

    record_outcome("support-haiku", "resolved", 1.0, state)          # from inside a node: state holds routing
    record_outcome("support-haiku", "revenue_usd", 42.0, "s-42")     # later, from anywhere: the unit id
    await arecord_outcome("support-haiku", "resolved", 0.0, "s-42", segments={"tier": "pro"})

Segments: the unit's routing-time segments, then the experiment's declared ``segments`` as ``state`` holds
them now — a state key, or the value an agent produced (``{name: category, from: classifier.category}``:
its state update's key, or its messages' structured output, JSON content or tool-call arguments; see
``graph.agent_outputs``) — so a classifier's category written after routing is recorded, then ``segments=``.

``unit`` is a graph state (its ``routing`` channel says the variant) or a unit id (the routing node of the
experiment in this process looks the unit's variant up in the assignment store, read-only). The value is
written as an ``Observation`` of the unit's variant: to ``observations`` (a store, URL or buffered writer)
or, by default, where the run's ``RoutingTelemetry`` handler (``callbacks=[…]``) or
``instrument(observations=…)`` writes (with neither: nothing written, a warning once, ``False``).

Nothing is written — and ``False`` returned — for a unit that is not enrolled, placed by a rollback or a
ship (never randomized, so never in an arm), or whose variant cannot be found; a value that is not a finite
number raises ``ValueError`` at the call. The observation id is ``<unit>:outcome:<metric>`` unless ``id`` is
given, so recording the same outcome twice (a retried request) counts it once. Writing never raises into
the caller: a failing store is retried, then dropped and counted by the writer.
"""

from __future__ import annotations

__all__ = ["arecord_outcome", "record_outcome"]

import asyncio
import logging
import math
from collections.abc import Mapping
from typing import Any

from routing_agent.assignment.types import NOT_RANDOMIZED, Assignment, Reason
from routing_agent.graph.agent_outputs import agent_output_value
from routing_agent.graph.resolution import call_routing, router_for
from routing_agent.graph.units import current_config, read_field
from routing_agent.stores.observations.observation import Observation

logger = logging.getLogger("routing_agent.observations")
_warned: list[bool] = []  # the "nowhere to write" warning is logged once per process
_NOT_OBSERVED = NOT_RANDOMIZED | {Reason.SHADOW.value}


def _run_sink() -> Any:
    """The observation sink of a ``RoutingTelemetry`` handler on the current run (``callbacks=[…]``)."""
    config = current_config(None)
    manager = (config or {}).get("callbacks")
    for handler in getattr(manager, "handlers", None) or (manager if isinstance(manager, list) else []):
        sink = getattr(handler, "observations_sink", None)
        if callable(sink) and sink() is not None:
            return sink()
    return None


def _sink(observations: Any) -> Any:
    if observations is None:
        from routing_agent.telemetry.install import current_handler

        handler = current_handler()
        sink = _run_sink() or (handler.observations_sink() if handler is not None else None)
        if sink is None and not _warned:
            _warned.append(True)
            logger.warning(
                "record_outcome has nowhere to write: call instrument(observations=…) or pass "
                "observations=<store, URL or writer>; outcomes are not recorded"
            )
        return sink
    if isinstance(observations, str):
        from routing_agent.stores.observations import open_observation_store

        observations = open_observation_store(observations)
    return observations


def _stored(experiment: str, unit_id: str) -> Assignment | None:
    node = router_for(experiment)
    if node is None or node.assigner.guard is None:
        return None
    spec = next((s for s in node.config.experiments if s.id == experiment), None)
    if spec is None:
        return None
    _, variant = node.assigner.guard.get(experiment, unit_id)
    if variant is None:
        return None
    from routing_agent.assignment.assigner import RoutingDecision

    record = node.assigner.assignment(spec, unit_id, RoutingDecision(variant, Reason.STICKY), {})
    return node.live_record(record)


def _state_segments(experiment: str, unit: Any) -> dict[str, str]:
    """The declared segments as the state holds them now: state keys, and agents' outputs (``from:``) — a
    classifier's category written after routing."""
    if isinstance(unit, str):
        return {}
    node = router_for(experiment)
    spec = next((s for s in node.config.experiments if s.id == experiment), None) if node else None
    if spec is None:
        return {}
    out: dict[str, str] = {}
    for key in spec.segments:
        source = spec.segment_sources.get(key)
        if source is None:
            value = read_field(unit, key)
        else:
            value = agent_output_value(unit, source.agent, source.path)
        if isinstance(value, str | int | float | bool) and str(value).strip():
            out[key] = str(value)[:200]
    return out


def _assignment(experiment: str, unit: Any) -> Assignment | None:
    if isinstance(unit, str):
        return _stored(experiment, unit)
    return call_routing(unit).get(experiment)


def _observation(
    experiment: str,
    metric: str,
    value: float,
    unit: Any,
    *,
    segments: Mapping[str, str] | None,
    id: str | None,
) -> Observation | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"outcome '{metric}' must be a finite number, got {type(value).__name__}")
    record = _assignment(experiment, unit)
    if record is None or record.get("variant") is None or record.get("reason") in _NOT_OBSERVED:
        return None
    unit_id = record.get("unit_id")
    if unit_id is None:
        return None
    merged = {
        **(record.get("segments") or {}),
        **_state_segments(experiment, unit),
        **{str(k): str(v) for k, v in (segments or {}).items()},
    }
    return Observation(
        experiment,
        str(record["variant"]),
        unit_id,
        metric,
        float(value),
        segments=merged,
        id=id or f"{unit_id}:outcome:{metric}",
    )


def _write(sink: Any, obs: Observation) -> bool:
    """Queue ``obs`` on a buffered writer (never blocks), else write it to a plain store."""
    if hasattr(sink, "add_many"):
        sink.add_many([obs])
        return True
    try:
        sink.add([obs])
    except Exception as exc:  # a plain store failing: logged, never raised into the caller
        logger.warning("outcome '%s' not written (%s)", obs.metric, type(exc).__name__)
        return False
    return True


def _prepare(
    experiment: str,
    metric: str,
    value: float,
    unit: Any,
    *,
    segments: Mapping[str, str] | None,
    observations: Any,
    id: str | None,
) -> tuple[Any, Observation] | None:
    """The sink and the observation to write, or None when nothing is to be written."""
    obs = _observation(experiment, metric, value, unit, segments=segments, id=id)
    if obs is None:
        return None
    sink = _sink(observations)
    return None if sink is None else (sink, obs)


def record_outcome(
    experiment: str,
    metric: str,
    value: float,
    unit: Any,
    *,
    segments: Mapping[str, str] | None = None,
    observations: Any = None,
    id: str | None = None,
) -> bool:
    """Record ``metric = value`` for ``unit`` (a state or a unit id); True when it was queued or written."""
    prepared = _prepare(experiment, metric, value, unit, segments=segments, observations=observations, id=id)
    return prepared is not None and _write(*prepared)


async def arecord_outcome(
    experiment: str,
    metric: str,
    value: float,
    unit: Any,
    *,
    segments: Mapping[str, str] | None = None,
    observations: Any = None,
    id: str | None = None,
) -> bool:
    """Async twin of ``record_outcome``: the same checks and sink; a plain store writes in a worker thread
    (a buffered writer never blocks, so it is queued inline)."""
    prepared = _prepare(experiment, metric, value, unit, segments=segments, observations=observations, id=id)
    if prepared is None:
        return False
    sink, obs = prepared
    if hasattr(sink, "add_many"):
        return _write(sink, obs)
    return await asyncio.to_thread(_write, sink, obs)
