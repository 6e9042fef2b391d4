"""Synthetic experiments for evaluator tests: specs, and per-unit observations with known truths.

Binary outcomes are exact (``round(rate · n)`` successes, shuffled), so a test can pin the estimate; per-call
metrics (latency, cost, refusal) are drawn per call with a per-unit random effect, as a session's calls are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from routing_agent.config.spec import ExperimentSpec
from routing_agent.stores.observations.observation import Observation

EXP = "exp"


def make_spec(**fields: Any) -> ExperimentSpec:
    """control (first) vs candidate 50/50, primary ``resolved`` (binary, MDE 0.02, baseline 0.87)."""
    data: dict[str, Any] = {
        "id": EXP,
        "variants": [
            {"name": "control", "model": "simulated:strong-expensive", "control": True},
            {"name": "candidate", "model": "simulated:fast-cheap"},
        ],
        "primary_metric": {"name": "resolved", "kind": "binary", "mde": 0.02, "baseline": 0.87},
    }
    data.update(fields)
    return ExperimentSpec.model_validate(data)


def arm(
    variant: str,
    units: int,
    *,
    seed: int,
    rate: float | None = 0.87,
    primary: str = "resolved",
    calls: int = 1,
    latency: float = 1.0,
    latency_sigma: float = 0.4,
    cost: float | None = 0.01,
    refusal: float = 0.0,
    unpriced: float = 0.0,
    segments: Mapping[str, Sequence[str]] | None = None,
    segment_rates: Mapping[str, float] | None = None,
    t0: float = 1_000_000.0,
    seconds_per_unit: float = 10.0,
    prefix: str = "",
    experiment: str = EXP,
) -> list[Observation]:
    """One arm's observations: a per-unit binary primary, then ``calls`` calls per unit.

    ``segments`` maps a key to the values units cycle through; ``segment_rates`` overrides ``rate`` for units
    of a segment value (exact counts per value too).
    """
    rng = np.random.default_rng(seed)
    seg_of = [{k: values[i % len(values)] for k, values in (segments or {}).items()} for i in range(units)]
    outcome = np.zeros(units)
    if rate is not None:
        groups: dict[float, list[int]] = {}
        for i, seg in enumerate(seg_of):
            r = next((segment_rates[v] for v in seg.values() if segment_rates and v in segment_rates), rate)
            groups.setdefault(r, []).append(i)
        for r, members in groups.items():
            chosen = rng.permutation(members)[: round(r * len(members))]
            outcome[chosen] = 1.0
    rows: list[Observation] = []
    for i in range(units):
        unit = f"{prefix}{variant}-{i}"
        ts = t0 + i * seconds_per_unit
        seg = seg_of[i]
        if rate is not None:
            rows.append(
                Observation(experiment, variant, unit, primary, float(outcome[i]), segments=seg, ts=ts)
            )
        slow = rng.lognormal(0.0, 0.2)
        for c in range(calls):
            common = dict(experiment=experiment, variant=variant, unit_id=unit, segments=seg, ts=ts + c)
            rows.append(Observation(metric="calls", value=1.0, **common))  # type: ignore[arg-type]
            value = latency * slow * rng.lognormal(0.0, latency_sigma)
            rows.append(Observation(metric="latency_s", value=float(value), **common))  # type: ignore[arg-type]
            rows.append(Observation(metric="refusal", value=float(rng.random() < refusal), **common))  # type: ignore[arg-type]
            missing = rng.random() < unpriced
            rows.append(Observation(metric="unpriced", value=float(missing), **common))  # type: ignore[arg-type]
            if cost is not None and not missing:
                spend = cost / calls * rng.lognormal(0.0, 0.3)
                rows.append(Observation(metric="cost_usd", value=float(spend), **common))  # type: ignore[arg-type]
    return rows
