"""The ``Observation``: one measured value for one unit of one variant. Everything the evaluator reads."""

from __future__ import annotations

__all__ = ["Metric", "Observation"]

import time
from collections.abc import Mapping
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
