"""The observations of one chat-model call, handed to the writer as one compact record.

The caller's thread stores the raw facts of the call (identity, unit, measured values, span context) in a
``CallObservations`` and appends it to the observation writer; the writer thread expands it into
``Observation`` objects (``checked()``), validating the fields the call's observations share once instead of
once per observation. Metrics emitted, always in this order: ``calls`` (1.0), ``latency_s``, ``error``,
``ttft_s`` (streamed calls only), and when the call returned a response: ``refusal``, ``input_tokens`` and
``output_tokens`` (when usage was reported) or ``usage_missing`` (1.0, when the response reported no token
usage: the cause of an unpriced call, e.g. a streamed OpenAI-compatible call without ``stream_usage``),
``unpriced``, ``cost_usd`` (when priced).
"""

from __future__ import annotations

__all__ = ["USAGE_MISSING", "CallObservations"]

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast
from uuid import UUID

from routing_agent.stores.observations.observation import (
    MAX_ABS_VALUE,
    Metric,
    Observation,
    observation_problem,
)
from routing_agent.telemetry.identity import CallIdentity

_FIELDS: tuple[str, ...] = (
    *("experiment", "variant", "unit_id", "metric", "value", "agent", "segments", "ts", "trace_id"),
    *("span_id", "id"),
)


class _Unfrozen:
    """``Observation``'s slot layout without its frozen guard: filled by plain attribute stores, then
    re-classed as an ``Observation`` (CPython allows ``__class__`` assignment between identical layouts)."""

    __slots__ = _FIELDS


def _fast_builder() -> Any:
    """Observations built as ``_Unfrozen`` and re-classed: a fifth of the frozen ``__init__``'s cost.

    Used only while ``Observation`` is exactly the frozen slots dataclass of these fields with no
    ``__post_init__`` and the result equals what its constructor builds; otherwise None and the regular
    constructor is used."""

    def build(  # noqa: PLR0917
        experiment: str,
        variant: str,
        unit_id: str,
        metric: str,
        value: float,
        agent: str | None,
        segments: Mapping[str, str],
        ts: float,
        trace_id: str | None,
        span_id: str | None,
        id: str | None,
    ) -> Observation:
        obs: Any = _Unfrozen()
        obs.experiment = experiment
        obs.variant = variant
        obs.unit_id = unit_id
        obs.metric = metric
        obs.value = value
        obs.agent = agent
        obs.segments = segments
        obs.ts = ts
        obs.trace_id = trace_id
        obs.span_id = span_id
        obs.id = id
        obs.__class__ = Observation
        return cast(Observation, obs)

    try:
        names = tuple(f.name for f in dataclasses.fields(Observation))
        if names != _FIELDS or hasattr(Observation, "__post_init__") or Observation.__slots__ != _FIELDS:
            return None
        sample = ("e", "v", "u", "m", 1.5, "a", {"k": "v"}, 2.0, "t", "s", "i")
        if build(*sample) != Observation(*sample):
            return None
    except Exception:  # pragma: no cover - a changed Observation: use its constructor
        return None
    return build


_build: Any = _fast_builder() or Observation
_CALLS, _LATENCY, _ERROR, _TTFT = (
    str(Metric.CALLS),
    str(Metric.LATENCY_S),
    str(Metric.ERROR),
    str(Metric.TTFT_S),
)
_REFUSAL, _IN, _OUT = str(Metric.REFUSAL), str(Metric.INPUT_TOKENS), str(Metric.OUTPUT_TOKENS)
_UNPRICED, _COST = str(Metric.UNPRICED), str(Metric.COST_USD)
USAGE_MISSING = "usage_missing"
"""Observation metric: 1.0 for a call whose response reported no token usage (emitted only then)."""


class CallObservations(Sequence[Observation]):
    """The observations of one call, built lazily (on the writer thread) from the call's raw facts."""

    __slots__ = (
        "_cost",
        "_failed",
        "_identity",
        "_latency",
        "_n",
        "_refusal",
        "_run_id",
        "_segments",
        "_span_id",
        "_tokens",
        "_trace_id",
        "_ts",
        "_ttft",
        "_unit_id",
    )

    def __init__(  # noqa: PLR0917
        self,
        identity: CallIdentity,
        unit_id: str,
        segments: Mapping[str, str],
        run_id: UUID | None,
        ts: float,
        trace_id: int,
        span_id: int,
        latency: float,
        failed: bool,
        ttft: float | None,
        refusal: bool | None,
        tokens: tuple[int, int] | None,
        cost: float | None,
    ) -> None:
        self._identity = identity
        self._unit_id = unit_id
        self._segments = segments
        self._run_id = run_id
        self._ts = ts
        self._trace_id = trace_id
        self._span_id = span_id
        self._latency = latency
        self._failed = failed
        self._ttft = ttft
        self._refusal = refusal  # None: no response (the call failed)
        self._tokens = tokens
        self._cost = cost
        n = 3 if ttft is None else 4
        if refusal is not None:
            n += 2 + (2 if tokens is not None else 1) + (1 if cost is not None else 0)
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> Any:
        return list(self)[index]

    def __iter__(self) -> Iterator[Observation]:
        return iter(self.checked()[0])

    def _values(self) -> list[tuple[str, float]]:
        """``(metric, value)`` of every observation after the first (``calls``, 1.0)."""
        values = [(_LATENCY, self._latency), (_ERROR, 1.0 if self._failed else 0.0)]
        if self._ttft is not None:
            values.append((_TTFT, self._ttft))
        if self._refusal is not None:
            values.append((_REFUSAL, 1.0 if self._refusal else 0.0))
            if self._tokens is not None:
                values.append((_IN, float(self._tokens[0])))
                values.append((_OUT, float(self._tokens[1])))
            else:
                values.append((USAGE_MISSING, 1.0))
            values.append((_UNPRICED, 0.0 if self._cost is not None else 1.0))
            if self._cost is not None:
                values.append((_COST, self._cost))
        return values

    def checked(self) -> tuple[list[Observation], str | None]:
        """The storable observations and the first problem of those that are not (see
        ``observation_problem``). The fields every observation of the call shares are validated once,
        on the first one (``calls``, value 1.0); the others only need their value checked."""
        ident = self._identity
        trace_id = format(self._trace_id, "032x") if self._trace_id else None
        span_id = format(self._span_id, "016x") if self._span_id else None
        key = self._run_id.hex if self._run_id is not None else (span_id or f"{id(self):x}")
        prefix = f"{key}:"
        segments = dict(self._segments)
        build, experiment, variant, agent = _build, ident.experiment, ident.variant, ident.agent
        unit_id, ts = self._unit_id, self._ts
        first = build(
            experiment, variant, unit_id, _CALLS, 1.0, agent, segments, ts, trace_id, span_id, prefix + _CALLS
        )
        problem = observation_problem(first)
        if problem is not None:  # a shared field no store can keep: none of the call's observations
            return [], problem
        good = [first]
        for name, value in self._values():
            obs = build(
                experiment,
                variant,
                unit_id,
                name,
                value,
                agent,
                segments,
                ts,
                trace_id,
                span_id,
                prefix + name,
            )
            if type(value) is float and -MAX_ABS_VALUE <= value <= MAX_ABS_VALUE:  # False for NaN and inf
                good.append(obs)
                continue
            found = observation_problem(obs)  # not a plain finite float: the full check decides
            if found is None:
                good.append(obs)
            elif problem is None:
                problem = found
        return good, problem
