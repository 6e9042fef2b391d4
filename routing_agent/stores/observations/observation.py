"""The ``Observation``: one measured value for one unit of one variant. Everything the evaluator reads.

Ingestion refuses what no store can keep faithfully (``observation_problem``): a NaN or infinite value would
turn every aggregate of its variant — and so every CI — into NaN. Stores raise ``ValueError`` for such a
batch before writing anything; ``BufferedObservationWriter`` drops just those observations. Both count every
refusal per experiment and reason (``non_finite``, ``too_large``, ``invalid_text``, ``invalid``) in a
process-wide tally that a report or status page reads with ``rejected_counts(experiment)``.
"""

from __future__ import annotations

__all__ = [
    "MAX_ABS_VALUE",
    "Metric",
    "Observation",
    "check_observations",
    "count_rejected",
    "observation_problem",
    "rejected_counts",
    "rejection_reason",
]

import math
import numbers
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Metric(StrEnum):
    """Metric names the telemetry hook emits for every LLM call. Scorers and workflows add their own."""

    LATENCY_S = "latency_s"  # total call duration, seconds
    TTFT_S = "ttft_s"  # time to first streamed chunk, seconds (only for streamed calls)
    INPUT_TOKENS = "input_tokens"
    OUTPUT_TOKENS = "output_tokens"
    COST_USD = "cost_usd"  # absent when the model has no price (counted as unpriced instead)
    ERROR = "error"  # 1.0 when the call raised, else 0.0
    REFUSAL = "refusal"  # 1.0 when the model refused, else 0.0
    CALLS = "calls"  # 1.0 per call; the denominator of per-call ratio metrics
    UNPRICED = "unpriced"  # 1.0 when the call could not be priced


@dataclass(frozen=True, slots=True)
class Observation:
    """One value of one metric for one unit in one variant of one experiment."""

    experiment: str
    variant: str
    unit_id: str
    metric: str
    value: float
    agent: str | None = None
    segments: Mapping[str, str] = field(default_factory=dict)
    ts: float = field(default_factory=time.time)
    trace_id: str | None = None  # hex, links the value to its trace
    span_id: str | None = None
    id: str | None = None  # optional idempotency key: a store keeps one observation per id

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "experiment": self.experiment,
            "variant": self.variant,
            "unit_id": self.unit_id,
            "metric": self.metric,
            "value": self.value,
            "agent": self.agent,
            "segments": dict(self.segments),
            "ts": self.ts,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "id": self.id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Observation:
        """Inverse of ``to_json``."""
        return cls(
            experiment=str(data["experiment"]),
            variant=str(data["variant"]),
            unit_id=str(data["unit_id"]),
            metric=str(data["metric"]),
            value=float(data["value"]),
            agent=data.get("agent"),
            segments={str(k): str(v) for k, v in (data.get("segments") or {}).items()},
            ts=float(data.get("ts", time.time())),
            trace_id=data.get("trace_id"),
            span_id=data.get("span_id"),
            id=data.get("id"),
        )


MAX_ABS_VALUE = 1e150
"""Largest magnitude of an observation value: stores keep sums of squares, which must stay finite."""


def _bad_text(value: object, *, optional: bool = False, empty_ok: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        return f"is {type(value).__name__}, not text"
    if not value and not (optional or empty_ok):
        return "is empty"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid Unicode text (it holds a lone surrogate)"
    return None


def _plain(obs: Observation) -> bool:
    """The common case, decided fast (False sends it to the full check): ASCII ``str`` text, a ``float``
    value and ``ts`` in range, ``dict`` segments of ASCII ``str``."""
    value, ts = obs.value, obs.ts
    if type(value) is not float or not -MAX_ABS_VALUE <= value <= MAX_ABS_VALUE:  # False for NaN
        return False
    if type(ts) is not float or not -_INF < ts < _INF:
        return False
    for text in (obs.experiment, obs.variant, obs.unit_id, obs.metric):
        if type(text) is not str or not text or not text.isascii():
            return False
    for optional in (obs.agent, obs.id, obs.trace_id, obs.span_id):
        if optional is not None and (type(optional) is not str or not optional.isascii()):
            return False
    segments = obs.segments
    if type(segments) is not dict:
        return isinstance(segments, Mapping) and not segments
    for key, text in segments.items():
        if type(key) is not str or not key or not key.isascii():
            return False
        if type(text) is not str or not text.isascii():
            return False
    return True


_INF = math.inf


def observation_problem(obs: Observation) -> str | None:
    """Why ``obs`` cannot be stored faithfully by every backend, or None when it can.

    Ids, names and segments must be valid text (no lone surrogates: SQLite and Redis cannot encode them);
    ``value`` and ``ts`` must be finite numbers (a NaN or an infinity would poison every aggregate of its
    variant) and ``|value|`` at most ``MAX_ABS_VALUE``. Checked by every store before it writes anything, and
    by ``BufferedObservationWriter``, which drops and counts such observations instead of failing their batch.
    """
    return None if _plain(obs) else _problem(obs)


def _problem(obs: Observation) -> str | None:
    for name in ("experiment", "variant", "unit_id", "metric"):
        problem = _bad_text(getattr(obs, name))
        if problem:
            return f"{name} {problem}"
    for name in ("agent", "id", "trace_id", "span_id"):
        problem = _bad_text(getattr(obs, name), optional=True)
        if problem:
            return f"{name} {problem}"
    for name in ("value", "ts"):
        number = getattr(obs, name)
        if not isinstance(number, numbers.Real) or not math.isfinite(float(number)):
            return f"{name} must be a finite number, not {number!r}"
    if abs(float(obs.value)) > MAX_ABS_VALUE:
        return f"value {obs.value!r} is too large to aggregate (its square overflows); the limit is 1e150"
    if not isinstance(obs.segments, Mapping):
        return f"segments is {type(obs.segments).__name__}, not a mapping"
    for key, value in obs.segments.items():
        problem = _bad_text(key) or _bad_text(value, empty_ok=True)
        if problem:
            return f"segment {key!r} {problem}"
    return None


_rejected: Counter[tuple[str, str]] = Counter()
_rejected_lock = threading.Lock()


def rejection_reason(problem: str) -> str:
    """The counter's reason for an ``observation_problem`` text."""
    if "must be a finite number" in problem:
        return "non_finite"
    if "too large" in problem:
        return "too_large"
    if "text" in problem or "Unicode" in problem or "empty" in problem:
        return "invalid_text"
    return "invalid"


def count_rejected(experiment: object, problem: str, n: int = 1) -> None:
    """Add ``n`` refused observations of ``experiment`` to the tally (never raises)."""
    try:
        key = (experiment if isinstance(experiment, str) else repr(experiment), rejection_reason(problem))
        with _rejected_lock:
            _rejected[key] += n
    except Exception:  # pragma: no cover - counting never breaks ingestion
        pass


def rejected_counts(experiment: str | None = None) -> dict[str, int]:
    """Observations refused at ingestion in this process, by reason (all experiments when None)."""
    out: Counter[str] = Counter()
    with _rejected_lock:
        for (exp, reason), n in _rejected.items():
            if experiment is None or exp == experiment:
                out[reason] += n
    return dict(out)


def check_observations(observations: Iterable[Observation]) -> None:
    """Raise ``ValueError`` naming the first observation no store can keep (before anything is written).

    Every refused observation of the batch is counted (``rejected_counts``) before the error is raised.
    """
    first: tuple[int, Observation, str] | None = None
    for i, obs in enumerate(observations):
        problem = observation_problem(obs)
        if problem is not None:
            count_rejected(obs.experiment, problem)
            if first is None:
                first = (i, obs, problem)
    if first is not None:
        i, obs, problem = first
        raise ValueError(f"observation {i} ({obs.experiment!r}, {obs.metric!r}) cannot be stored: {problem}")
