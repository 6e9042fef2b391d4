"""The coverage check (like SRM, for outcomes): per arm, units assigned against units observed.

An arm's *coverage* is the share of its assigned units (the assignment store's count, or any observation of
the unit) that have an outcome of the primary metric. The check fails — the decision is ``invalid`` and
``watch`` alarms — once an arm has ``min_units_for_coverage`` assigned units and

* its coverage is below ``min_coverage`` (outcomes are not arriving at all: nothing records the primary, a
  scorer is not running, an outcome webhook is down), or
* its coverage is below ``min_coverage_ratio`` × the best arm's (outcomes stopped arriving for one arm).

Units still in flight lower every arm's coverage alike, so the relative rule tolerates outcomes that arrive
late; a primary sampled by a judge (``sample: 0.2``) lowers the absolute level: set ``min_coverage`` below it.
The differential *attrition* test (``evaluation.attrition``) complements this with a significance test.
"""

from __future__ import annotations

__all__ = ["coverage_check"]

from routing_agent.evaluation.attrition import Attrition
from routing_agent.evaluation.checks import ValidityCheck
from routing_agent.evaluation.settings import EvaluationSettings
from routing_agent.evaluation.text import pct, units


def coverage_check(a: Attrition, settings: EvaluationSettings) -> ValidityCheck:
    """Fail when an arm's primary outcomes are missing beyond the floors (see the module docstring)."""
    cover = {v: a.with_outcome.get(v, 0) / n for v, n in a.assigned.items() if n}
    checked = {v: c for v, c in cover.items() if a.assigned[v] >= settings.min_units_for_coverage}
    shares = ", ".join(
        f"{v} {units(min(a.with_outcome.get(v, 0), n))} of {units(n)} ({pct(cover[v])})"
        for v, n in a.assigned.items()
        if n
    )
    best = max(checked.values(), default=0.0)
    low = {v: c for v, c in checked.items() if c < settings.min_coverage}
    lagging = {v: c for v, c in checked.items() if best > 0 and c < settings.min_coverage_ratio * best}
    worst = min(checked, key=lambda v: checked[v]) if checked else None
    value = checked[worst] if worst is not None else None
    detail = {"coverage": cover, "assigned": dict(a.assigned), "with_outcome": dict(a.with_outcome)}
    if low or lagging:
        arm = min({**low, **lagging}, key=lambda v: checked[v])
        why = (
            f"below the {pct(settings.min_coverage)} floor"
            if arm in low
            else f"under {settings.min_coverage_ratio:g}× the best arm's {pct(best)}"
        )
        message = (
            f"coverage gap: units with a {a.metric} outcome — {shares}; {arm} is {why}. Outcomes are not "
            "arriving (an outcome recorder, scorer or webhook stopped): no decision until they do"
        )
        return ValidityCheck("coverage", False, checked[arm], settings.min_coverage, message, detail)
    if value is None:
        message = f"coverage: too few assigned units to check yet ({shares or 'none'})"
    else:
        message = f"coverage: units with a {a.metric} outcome — {shares}"
    return ValidityCheck("coverage", True, value, settings.min_coverage, message, detail)
