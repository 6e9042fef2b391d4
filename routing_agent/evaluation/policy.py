"""The reading order, turned into one ``Decision`` with a one-sentence summary and its evidence.

1. **Guardrails.** A bound breached (always-valid test, enough sample) with ``action: rollback`` →
   ``rollback``, whatever else the data says. ``action: alert`` breaches are listed and the reading goes on.
2. **Validity.** A sample-ratio mismatch, too many invalid judge verdicts or unpriced calls → ``invalid``.
3. **Significance of the primary metric** (``routing_agent.evaluation.primary``): an arm that wins (or is
   shown non-inferior) → ``ship`` the best one; every arm significantly worse (or not shown non-inferior) →
   ``rollback``; an arm still short of its planned sample → ``keep_running`` with the units and days to go.
4. **Effect vs MDE.** Significant but below the MDE counts as no difference. With no difference in any arm
   (and the planned sample reached) → ``no_difference``, and the winner is the cheaper variant when it is
   significantly cheaper per unit (``routing_agent.evaluation.cost``), else control.
5. **Segments.** A ``ship`` or a ``no_difference`` that moves traffic to a candidate which is significantly
   worse on a declared segment → ``segmentation``: a person decides.
"""

from __future__ import annotations

__all__ = ["DecisionInputs", "decide"]

from dataclasses import dataclass, field, replace
from typing import Any

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.checks import ValidityCheck
from routing_agent.evaluation.cost import CostComparison
from routing_agent.evaluation.decision import Decision, DecisionKind, GuardrailResult
from routing_agent.evaluation.plan import SamplePlan
from routing_agent.evaluation.primary import MetricComparison
from routing_agent.evaluation.segments import SegmentReport
from routing_agent.evaluation.text import ci, duration, num, pval, signed, units

_K = DecisionKind


@dataclass(frozen=True)
class DecisionInputs:
    """Everything the reading order looks at."""

    spec: ExperimentSpec
    control: str
    arms: list[str]
    checks: list[ValidityCheck]
    guardrails: list[GuardrailResult]
    primary: list[MetricComparison]
    plan: SamplePlan | None
    cost: CostComparison | None
    segments: list[SegmentReport] = field(default_factory=list)
    evaluated_at: float = 0.0


def _effect(c: MetricComparison) -> str:
    r = c.result
    assert r is not None
    level = f"{100 * (1 - r.alpha):g}%"
    p = c.adjusted_p_value if c.adjusted_p_value is not None else r.p_value
    adjusted = " adjusted" if c.adjusted_p_value is not None and c.adjusted_p_value != r.p_value else ""
    return (
        f"{c.metric} {num(r.treatment_mean)} ({c.variant}) vs {num(r.control_mean)} ({c.control}), "
        f"difference {signed(r.absolute_effect)} ({level} CI {ci(r.ci_low, r.ci_high)},{adjusted} {pval(p)})"
    )


def _guardrail_line(g: GuardrailResult) -> str:
    if g.test_value is None or (g.kind == "relative" and g.control_value is None):
        return f"{g.bound} [{g.variant}]: no data yet"
    seen = f"{num(g.ratio)}×" if g.kind == "relative" and g.ratio is not None else num(g.test_value)
    interval = f" (always-valid CI {ci(g.ci_low, g.ci_high, sign=False)}, {pval(g.p_value)})"
    if g.breached and g.enough_sample:
        state = "BREACHED" if g.action == "rollback" else "breached (alert only)"
    elif g.breached:
        state = f"beyond the bound, but only {min(g.n_test, g.n_control or g.n_test)} of {g.min_sample} units"
    else:
        state = "holds"
    return f"{g.bound} [{g.variant}]: {seen}{interval} — {state}"


def _breach_sentence(g: GuardrailResult) -> str:
    what = f"{g.variant}'s {g.statistic} {g.metric}" + (f" ({g.agent})" if g.agent else "")
    sign = "≤" if g.side == "max" else "≥"
    interval = f"always-valid CI {ci(g.ci_low, g.ci_high, sign=False)}, {pval(g.p_value)}"
    if g.kind == "relative":
        seen, bound = f"{num(g.ratio)}× control's", f"bound {sign} {g.limit:g}×"
        sample = f"{units(g.n_test)} and {units(g.n_control)} units"
    else:
        seen, bound = num(g.test_value), f"bound {sign} {g.limit:g}"
        sample = f"{units(g.n_test)} units"
    return f"{what} is {seen} ({bound}; {interval}; {sample})"


def _held(guardrails: list[GuardrailResult]) -> str:
    if not guardrails:
        return "no guardrails declared"
    ok = sum(not (g.breached and g.enough_sample) for g in guardrails)
    return f"guardrails held ({ok} of {len(guardrails)})" if ok == len(guardrails) else (
        f"guardrails: {len(guardrails) - ok} of {len(guardrails)} breached (alert only)"
    )  # fmt: skip


def _evidence(x: DecisionInputs) -> dict[str, Any]:
    primary = []
    for c in x.primary:
        r, s = c.result, c.sequential
        primary.append(
            {
                "metric": c.metric, "variant": c.variant, "verdict": c.verdict, "early": c.early,
                "control_value": r.control_mean if r else None, "test_value": r.treatment_mean if r else None,
                "effect": r.absolute_effect if r else None, "ci_low": r.ci_low if r else None,
                "ci_high": r.ci_high if r else None, "p_value": r.p_value if r else None,
                "adjusted_p_value": c.adjusted_p_value, "sequential_p_value": s.p_value if s else None,
            }
        )  # fmt: skip
    out: dict[str, Any] = {
        "primary": primary,
        "checks": {c.name: c.passed for c in x.checks},
        "planned": x.plan.planned if x.plan else {},
        "observed": x.plan.observed if x.plan else {},
    }
    if x.cost is not None:
        out["cost_per_unit"] = {v: x.cost.mean(v) for v in sorted(x.cost.data.aggregates)}
    return out


def _weights(spec: ExperimentSpec) -> dict[str, float]:
    return {v.name: v.weight or 0.0 for v in spec.variants}


def _make(x: DecisionInputs, kind: DecisionKind, summary: str, reasons: list[str], **kw: Any) -> Decision:
    evidence = _evidence(x)
    evidence.update(kw.pop("evidence", {}))
    return Decision(
        experiment=x.spec.id, kind=kind, summary=summary, reasons=tuple(reasons),
        guardrails=tuple(x.guardrails), review_required=x.spec.review == "required",
        evaluated_at=x.evaluated_at, evidence=evidence, **kw,
    )  # fmt: skip


def _pick_winner(x: DecisionInputs, winners: list[MetricComparison]) -> MetricComparison:
    if winners[0].test == "non_inferiority" and x.cost is not None:
        priced = [w for w in winners if x.cost.mean(w.variant) is not None]
        if priced:
            return min(priced, key=lambda w: x.cost.mean(w.variant) or 0.0)  # type: ignore[union-attr]
    sign = 1.0 if winners[0].direction == "increase" else -1.0
    return max(winners, key=lambda w: sign * (w.result.absolute_effect if w.result else 0.0))


def _keep_running(x: DecisionInputs, reasons: list[str], held: str) -> Decision:
    plan = x.plan
    days = plan.days_remaining(_weights(x.spec)) if plan is not None else None
    if plan is None or not plan.planned:
        why = plan.note if plan is not None and plan.note else "waiting for data"
        return _make(x, _K.KEEP_RUNNING, f"Keep running: {why}; {held}.", reasons)
    have = ", ".join(f"{v} {units(plan.observed.get(v, 0))} of {units(n)}" for v, n in plan.planned.items())
    when = ""
    if days is not None and plan.traffic_per_day:
        when = f", about {duration(days)} at the current {plan.traffic_per_day:,.0f} units/day"
    so_far = ""
    seq = [c for c in x.primary if c.sequential is not None and c.result is not None]
    if seq:
        c = seq[0]
        assert c.result is not None and c.sequential is not None
        so_far = (
            f"; so far {c.metric} {num(c.result.treatment_mean)} vs {num(c.result.control_mean)} "
            f"(always-valid {pval(c.sequential.p_value)})"
        )
    needed = f"planned sample not reached ({have} units); up to {units(plan.sample_needed)} more per arm"
    summary = f"Keep running: {needed}{when}{so_far}; {held}."
    return _make(x, _K.KEEP_RUNNING, summary, reasons, sample_needed=plan.sample_needed, days_remaining=days)


def decide(x: DecisionInputs) -> Decision:
    """Read the analyses in the playbook's order (see the module docstring)."""
    reasons = ["guardrails: " + ("; ".join(_guardrail_line(g) for g in x.guardrails) or "none declared")]
    held = _held(x.guardrails)
    stops = [g for g in x.guardrails if g.stops]
    if stops:
        g = max(stops, key=lambda g: (g.p_value is not None, -(g.p_value or 0.0)))
        summary = f"Roll back: {_breach_sentence(g)}"
        others = len(stops) - 1
        summary += f" (and {others} more breach{'es' if others > 1 else ''})." if others else "."
        return _make(x, _K.ROLLBACK, summary, reasons)
    reasons.append("validity: " + "; ".join(c.message for c in x.checks))
    failed = [c for c in x.checks if not c.passed]
    if failed:
        summary = "Invalid: " + "; ".join(c.message for c in failed) + "."
        return _make(x, _K.INVALID, summary, reasons)
    if x.spec.primary_metric is None or not x.primary:
        return _make(x, _K.KEEP_RUNNING, f"Keep running: no primary metric declared; {held}.", reasons)
    for c in x.primary:
        line = f"{c.variant}: {c.verdict}" + (" (early, always-valid test)" if c.early else "")
        if c.result is not None:
            line += f" — {_effect(c)}"
        reasons.append("significance: " + line + (f"; {c.note}" if c.note else ""))
    winners = [c for c in x.primary if c.verdict in ("win", "non_inferior")]
    verdicts = {c.verdict for c in x.primary}
    if winners:
        best = _pick_winner(x, winners)
        cost = f"; {x.cost.describe(best.variant)}" if x.cost is not None else ""
        what = "is non-inferior" if best.verdict == "non_inferior" else "wins"
        summary = f"Ship {best.variant}: it {what} — {_effect(best)}{cost}; {held}."
        decision = _make(x, _K.SHIP, summary, reasons, winner=best.variant)
    elif verdicts <= {"loss", "inferior"}:
        c = x.primary[0]
        what = "not shown non-inferior" if c.verdict == "inferior" else "significantly worse"
        summary = f"Roll back: {c.variant} is {what} on the primary metric — {_effect(c)}; {held}."
        return _make(x, _K.ROLLBACK, summary, reasons)
    elif verdicts & {"pending", "no_data"}:
        return _keep_running(x, reasons, held)
    else:
        same = [c for c in x.primary if c.verdict in ("no_difference", "trivial")]
        eligible = [x.control, *(c.variant for c in same)]
        winner, why = (
            x.cost.pick(eligible) if x.cost is not None else (x.control, "no cost data: control stays")
        )
        reasons.append(f"effect vs MDE / cost: {why}")
        c = next((c for c in same if c.variant == winner), same[0])
        verdict = "significant but below the MDE" if c.verdict == "trivial" else "not significant"
        mde_clause = c.note.split(":")[0] if c.verdict == "no_difference" and c.note else ""
        summary = (
            f"No difference: {_effect(c)}, {verdict}"
            + (f"; {mde_clause}" if mde_clause else "")
            + f"; {why}; {held} — pick {winner}."
        )
        decision = _make(x, _K.NO_DIFFERENCE, summary, reasons, winner=winner)
    return _segments(x, decision, reasons)


def _segments(x: DecisionInputs, decision: Decision, reasons: list[str]) -> Decision:
    winner = decision.winner
    if winner is None or winner == x.control:
        return decision
    worse = [(r, v) for r in x.segments if r.variant == winner for v in r.worse]
    if not x.segments:
        return decision
    if not worse:
        reasons.append(f"segments: {winner} holds on every declared segment")
        return replace(decision, reasons=tuple(reasons))
    names = ", ".join(f"{r.key}={v}" for r, v in worse)
    reasons.append(f"segments: {winner} is significantly worse on {names}")
    summary = (
        f"Segmentation decision: {decision.summary.rstrip('.')} — but {winner} is significantly worse on "
        f"{names}: not a win everywhere; a person decides which segments move."
    )
    return _make(
        x, _K.SEGMENTATION, summary, reasons, winner=winner,
        evidence={"segments_worse": [{"key": r.key, "value": v} for r, v in worse]},
    )  # fmt: skip
