"""Intention to treat: every assigned unit counts in its arm; differential missingness blocks a decision.

A unit is *assigned* to an arm when the assignment store counts it or when any observation of any metric
shows it (per arm, the larger of the two counts). An assigned unit without an outcome of the primary metric
is *missing*. Dropping missing units silently turns a candidate that crashes on 10 % of units into a
"win" (the survivors are the easy cases), so the primary metric follows its YAML ``missing:`` policy:

* ``failure`` (the default): a missing unit counts as the worst outcome — ``missing_value`` when declared,
  else 0 for a binary metric where higher is better (1 where lower is better), else the worst per-unit
  value observed in any arm for a continuous metric. A ratio metric (``Σx / Σy``) cannot impute a unit
  without a denominator: its missing units are left out, and the attrition check below still runs.
* ``exclude``: missing units are left out (a complete-case reading).

**The attrition check** (like SRM, for missingness): for each test arm, the share of assigned units
without a primary outcome is compared with control's (two-proportion test). A p-value below
``attrition_threshold`` with a difference of at least ``attrition_min_difference`` makes the evaluation
``invalid``: no reading of the primary metric is trustworthy while one arm loses outcomes the other keeps.
"""

from __future__ import annotations

__all__ = ["Attrition", "attrition_check", "intention_to_treat"]

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from routing_agent.config.spec import MetricSpec
from routing_agent.evaluation.checks import ValidityCheck
from routing_agent.evaluation.metrics import MetricData
from routing_agent.evaluation.settings import EvaluationSettings
from routing_agent.evaluation.text import num, pct, pval, units
from routing_agent.stats import SampleSummary, compare_proportions
from routing_agent.stores.observations.aggregates import UnitAggregate
from routing_agent.stores.observations.base import ObservationStore


@dataclass(frozen=True)
class Attrition:
    """Assigned units, units with a primary outcome, and how the missing ones were counted."""

    metric: str
    policy: str  # failure | exclude
    assigned: dict[str, int]
    with_outcome: dict[str, int]
    imputed_value: float | None  # the value a missing unit counted as (None: left out)

    @property
    def missing(self) -> dict[str, int]:
        """Assigned units without a primary outcome, per arm."""
        return {v: max(0, n - self.with_outcome.get(v, 0)) for v, n in self.assigned.items()}

    def share(self, variant: str) -> float:
        """The arm's share of assigned units without an outcome (0 without units)."""
        n = self.assigned.get(variant, 0)
        return self.missing.get(variant, 0) / n if n else 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "metric": self.metric,
            "policy": self.policy,
            "assigned": dict(self.assigned),
            "with_outcome": dict(self.with_outcome),
            "missing": self.missing,
            "imputed_value": self.imputed_value,
        }


def _worst(store: ObservationStore, experiment: str, m: MetricSpec, per_unit_total: bool) -> float | None:
    """The worst per-unit value seen in any arm (None without values)."""
    values = [
        u.value if per_unit_total else u.value / u.n_obs
        for u in store.unit_values(experiment, m.name, agent=m.agent)
        if u.n_obs > 0
    ]
    if not values:
        return None
    return min(values) if m.direction == "increase" else max(values)


def _impute(agg: UnitAggregate, k: int, w: float) -> UnitAggregate:
    """``agg`` plus ``k`` units with one observation of value ``w`` each."""
    return agg + UnitAggregate(k, k, k * w, k * w * w, float(k), float(k), k * w)


def intention_to_treat(
    m: MetricSpec,
    data: MetricData,
    *,
    assigned: Mapping[str, int],
    observed: Mapping[str, int],
    store: ObservationStore,
    experiment: str,
) -> tuple[MetricData, Attrition]:
    """The primary metric read by intention to treat (see the module docstring).

    ``assigned`` are the assignment store's counts (empty without one); ``observed`` the units with any
    observation, per arm.
    """
    arms = set(assigned) | set(observed) | set(data.aggregates)
    enrolled = {v: max(assigned.get(v, 0), observed.get(v, 0), data.n(v)) for v in sorted(arms)}
    with_outcome = {v: data.n(v) for v in enrolled}
    missing = {v: enrolled[v] - with_outcome[v] for v in enrolled}
    value: float | None = None
    if m.missing == "failure" and data.shape != "ratio" and any(missing.values()):
        value = m.failure_value
        if value is None:
            value = _worst(store, experiment, m, data.shape == "per_unit_total")
    attrition = Attrition(m.name, m.missing, enrolled, with_outcome, value)
    if value is None:
        return data, attrition
    aggregates = dict(data.aggregates)
    for v, k in missing.items():
        if k > 0:
            aggregates[v] = _impute(aggregates.get(v, UnitAggregate()), k, value)
    return replace(data, aggregates=aggregates), attrition


def attrition_check(a: Attrition, control: str, settings: EvaluationSettings) -> ValidityCheck:
    """Each test arm's missing share against control's (see the module docstring)."""
    worst_p, worst_arm, failed = 1.0, None, False
    missing = a.missing
    for arm in a.assigned:
        if arm == control or not a.assigned.get(control) or not a.assigned[arm]:
            continue
        r = compare_proportions(
            SampleSummary.from_counts(missing.get(control, 0), a.assigned[control]),
            SampleSummary.from_counts(missing[arm], a.assigned[arm]),
            pooled=True,
        )
        gap = abs(a.share(arm) - a.share(control))
        alarm = r.p_value < settings.attrition_threshold and gap >= settings.attrition_min_difference
        if alarm or (not failed and r.p_value <= worst_p):
            worst_p, worst_arm = r.p_value, arm
        failed |= alarm
    shares = ", ".join(
        f"{v} {pct(a.share(v))} of {units(n)}" for v, n in a.assigned.items() if n
    )  # fmt: skip
    counted = (
        f"counted as {num(a.imputed_value)}" if a.imputed_value is not None else "left out of the primary"
    )
    if failed:
        message = (
            f"differential attrition: assigned units without a {a.metric} outcome — {shares}; "
            f"{worst_arm} against control {pval(worst_p)} (threshold {settings.attrition_threshold:g}). "
            "The arm loses outcomes the other keeps (crashes, timeouts, lost writes): no reading is "
            "trustworthy until the cause is fixed"
        )
    elif any(missing.values()):
        message = f"attrition balanced: units without a {a.metric} outcome — {shares} ({counted})"
    else:
        message = f"no attrition: every assigned unit has a {a.metric} outcome"
    detail = {**a.to_json(), "p_value": worst_p, "arm": worst_arm}
    return ValidityCheck("attrition", not failed, worst_p, settings.attrition_threshold, message, detail)
