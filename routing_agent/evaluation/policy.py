"""The decision policy: the reading order, turned into one ``Decision`` with a one-sentence summary.

The promise is "no regression shipped": traffic moves to a candidate only on evidence that it is not
worse. α is the primary metric's ``alpha`` (default 0.05); every rule below that moves traffic has a
one-sided error of at most α/2 at the planned sample. In order (the first rule that applies decides):

1. **Roll back — a guardrail.** A bound breached (always-valid test, sound, ``min_sample`` units) with
   ``action: rollback`` → ``rollback``. Calibrated to: P(any false rollback over every bound, arm and look)
   ≤ ``guardrail_alpha`` (Bonferroni across the family + Ville's inequality).
2. **Invalid.** Sample-ratio mismatch (p < 0.001), differential attrition of primary outcomes
   (p < ``attrition_threshold``; see ``routing_agent.evaluation.attrition``), too many invalid judge
   verdicts or unpriced calls → ``invalid``: nothing moves; fix the cause. False alarm rate ≤ 0.1 % each.
3. **Keep running — cannot read the primary.** No primary metric, an arm short of its planned sample with
   no conclusive always-valid test, or a primary test flagged unreliable (never moves traffic) →
   ``keep_running`` with the units and days to go or the reason.
4. **Ship.** Superiority posture (``test: superiority``): two-sided p < α in the good direction (at the
   planned sample; before it, the always-valid test at α / arms) and the CI reaching the MDE → ``ship``.
   P(ship | no true gain) ≤ α/2; P(ship | true effect = +MDE, planned n) ≈ the planned power (80 %): the
   MDE plans n and judges relevance through the CI, not the point estimate. Non-inferiority posture
   (``test: non_inferiority``): the one-sided test against the margin at α/2 (two-sided CI above −margin;
   before the planned sample its one-sided always-valid test) → ``ship`` the cheapest non-inferior arm.
   P(ship | candidate exactly at the margin) ≤ α/2.
5. **Roll back — the primary.** Every test arm significantly worse (superiority), or not shown
   non-inferior at the planned sample (non-inferiority) → ``rollback``.
6. **No difference.** Superiority not shown at the planned sample → ``no_difference``. The cheaper arm is
   picked only with evidence of no loss: non-inferiority at the declared ``margin`` (one-sided α/2; a
   significant gain below the MDE counts) *and* a significantly lower cost per unit. Without a margin, or
   without that evidence, control stays ("no difference detected — stay on control") and the summary says
   what would decide it: the margin this sample already supports (the CI's bad edge). P(traffic moves to a
   candidate truly worse by the margin) ≤ α/2.
7. **Guardrails must be readable.** A ship or a switch to a cheaper arm while any of that arm's guardrails
   is ``insufficient_data`` (no observations, below ``min_sample``, or beyond the bound on an unsound test)
   → ``keep_running`` with the reason. A guardrail never receiving data never lets traffic move.
8. **Segmentation.** A move to a candidate significantly worse on a declared segment → ``segmentation``: a
   person decides.

Early decisions (before the planned sample) quote the always-valid CI and p in the summary; the
fixed-horizon figures appear beside them, labelled as not valid for an early stop.
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
    if c.early and c.sequential is not None:
        q = c.sequential
        return (
            f"{c.metric} {num(q.treatment_mean)} ({c.variant}) vs {num(q.control_mean)} ({c.control}), "
            f"difference {signed(q.absolute_effect)} (always-valid {100 * (1 - q.alpha):g}% CI "
            f"{ci(q.ci_low, q.ci_high)}, always-valid {pval(q.p_value)}; fixed-horizon figures, not valid "
            f"for an early stop: CI {ci(r.ci_low, r.ci_high)}, {pval(r.p_value)})"
        )
    level = f"{100 * (1 - r.alpha):g}%"
    p = c.adjusted_p_value if c.adjusted_p_value is not None else r.p_value
    adjusted = " adjusted" if c.adjusted_p_value is not None and c.adjusted_p_value != r.p_value else ""
    test = ""
    if c.test == "non_inferiority":
        relative = " (relative)" if c.margin_relative else ""
        test = f" non-inferiority at margin {num(c.margin)}{relative}, one-sided"
    return (
        f"{c.metric} {num(r.treatment_mean)} ({c.variant}) vs {num(r.control_mean)} ({c.control}), "
        f"difference {signed(r.absolute_effect)} ({level} CI {ci(r.ci_low, r.ci_high)},{adjusted}{test} "
        f"{pval(p)})"
    )


def _guardrail_line(g: GuardrailResult) -> str:
    if g.test_value is None or (g.kind == "relative" and g.control_value is None):
        return f"{g.why_insufficient()} — insufficient data"
    seen = f"{num(g.ratio)}×" if g.kind == "relative" and g.ratio is not None else num(g.test_value)
    interval = f" (always-valid CI {ci(g.ci_low, g.ci_high, sign=False)}, {pval(g.p_value)})"
    status = g.status
    if status == "breached":
        state = "BREACHED" if g.action == "rollback" else "breached (alert only)"
    elif status == "insufficient_data":
        state = "insufficient data: " + g.why_insufficient().split(": ", 1)[1]
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
    status = [g.status for g in guardrails]
    held, short, breached = status.count("held"), status.count("insufficient_data"), status.count("breached")
    if held == len(guardrails):
        return f"guardrails held ({held} of {len(guardrails)})"
    parts = [f"{held} of {len(guardrails)} held"]
    if short:
        parts.append(f"{short} without enough data")
    if breached:
        parts.append(f"{breached} breached (alert only)")
    return "guardrails: " + ", ".join(parts)


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
                "sequential_ci_low": s.ci_low if s else None, "sequential_ci_high": s.ci_high if s else None,
                "ni_p_value": c.ni.p_value if c.ni else None, "shown_non_inferior": c.shown_non_inferior,
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
        against = f" non-inferiority at margin {num(c.margin)}" if c.test == "non_inferiority" else ""
        so_far = (
            f"; so far {c.metric} {num(c.result.treatment_mean)} vs {num(c.result.control_mean)} "
            f"(always-valid{against} {pval(c.sequential.p_value)})"
        )
    needed = f"planned sample not reached ({have} units); up to {units(plan.sample_needed)} more per arm"
    summary = f"Keep running: {needed}{when}{so_far}; {held}."
    return _make(x, _K.KEEP_RUNNING, summary, reasons, sample_needed=plan.sample_needed, days_remaining=days)


def _no_move_why(c: MetricComparison) -> str:
    """Why the cheaper ``c.variant`` is not picked, and what would decide it."""
    r = c.result
    assert r is not None
    sign = 1.0 if c.direction == "increase" else -1.0
    level = f"{100 * (1 - r.alpha):g}%"
    bad_edge = min(sign * r.ci_low, sign * r.ci_high)
    supported = (
        f"this sample rules out a loss larger than {num(-bad_edge)} (the {level} CI's bad edge): a margin "
        "above it would decide"
        if bad_edge < 0
        else "the CI excludes any loss"
    )
    if c.ni is None:
        return (
            f"no difference detected — stay on {c.control}: a non-significant superiority test is not "
            f"evidence of no loss. To pick {c.variant} when it is cheaper, declare margin: <the largest "
            f"loss you accept> (non-inferiority); {supported}"
        )
    ni = c.ni
    why = "its test is unreliable" if not ni.reliable else f"one-sided {pval(ni.p_value)} ≥ {ni.alpha:g}"
    return (
        f"{c.variant} is not shown non-inferior at margin {num(c.margin)}"
        f"{' (relative)' if c.margin_relative else ''} ({why}) — stay on {c.control}; {supported}; more "
        "units would narrow the CI"
    )


def decide(x: DecisionInputs) -> Decision:
    """Apply the decision policy (see the module docstring): one of rollback, invalid, keep_running, ship,
    no_difference or segmentation, with the rule that led there and the error rate it is calibrated to."""
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
    unreliable = [c for c in x.primary if c.verdict == "unreliable"]
    if unreliable:
        c = unreliable[0]
        summary = f"Keep running: {c.variant} vs {c.control} on {c.metric}: {c.note}; {held}."
        return _make(x, _K.KEEP_RUNNING, summary, reasons)
    if winners:
        best = _pick_winner(x, winners)
        cost = f"; {x.cost.describe(best.variant)}" if x.cost is not None else ""
        what = "is non-inferior" if best.verdict == "non_inferior" else "wins"
        if best.early:
            reasons.append(
                "early stop: an estimate read when the always-valid test first crosses is biased away from "
                "0 (it stopped because it looked large); the always-valid CI is the range to rely on"
            )
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
        decision = _no_difference(x, reasons, held)
    gated = _gate(x, decision, reasons, held)
    return gated if gated is not None else _segments(x, decision, reasons)


def _no_difference(x: DecisionInputs, reasons: list[str], held: str) -> Decision:
    same = [c for c in x.primary if c.verdict in ("no_difference", "trivial")]
    eligible = [x.control, *(c.variant for c in same if c.shown_non_inferior)]
    winner, why = x.cost.pick(eligible) if x.cost is not None else (x.control, "no cost data: control stays")
    cheaper = [
        c
        for c in same
        if not c.shown_non_inferior and x.cost is not None and x.cost.significantly_cheaper(c.variant)
    ]
    if winner == x.control and cheaper:
        why = _no_move_why(cheaper[0])
    reasons.append(f"effect vs MDE / cost: {why}")
    c = next((c for c in same if c.variant == winner), cheaper[0] if cheaper else same[0])
    verdict = "significant, but the CI lies below the MDE" if c.verdict == "trivial" else "not significant"
    mde_clause = c.note.split(":")[0] if c.verdict == "no_difference" and c.note else ""
    ni = ""
    if winner != x.control and c.ni is not None:
        ni = f"; non-inferior at margin {num(c.margin)} (one-sided {pval(c.ni.p_value)})"
    summary = (
        f"No difference: {_effect(c)}, {verdict}"
        + (f"; {mde_clause}" if mde_clause else "")
        + f"{ni}; {why}; {held} — pick {winner}."
    )
    return _make(x, _K.NO_DIFFERENCE, summary, reasons, winner=winner)


def _gate(x: DecisionInputs, decision: Decision, reasons: list[str], held: str) -> Decision | None:
    """A move (ship, or a switch to a cheaper arm) while a guardrail of that arm cannot be read → keep
    running with the reason; None when the decision stands."""
    winner = decision.winner
    if winner is None or winner == x.control:
        return None
    short = [g for g in x.guardrails if g.insufficient and g.variant == winner]
    if not short:
        return None
    what = "ship" if decision.kind is _K.SHIP else "switch to"
    blocked = "; ".join(g.why_insufficient() for g in short)
    reasons.append(f"guardrails: {what} {winner} blocked — {blocked}")
    summary = (
        f"Keep running: the primary metric says {what} {winner}, but guardrail data is insufficient "
        f"({blocked}); no ship and no switch until every guardrail can be read; {held}."
    )
    return _make(x, _K.KEEP_RUNNING, summary, reasons, evidence={"blocked": decision.kind.value})


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
    keys = {r.key for r, _ in worse}
    ship_segment = {
        key: sorted(
            {s.value for r in x.segments if r.key == key and r.variant == winner for s in r.analysis.segments}
            - {v for r, v in worse if r.key == key}
        )
        for key in sorted(keys)
    }
    evidence: dict[str, Any] = {"segments_worse": [{"key": r.key, "value": v} for r, v in worse]}
    if all(ship_segment.values()):
        evidence["ship_segment"] = ship_segment  # where the winner is not worse: a segment-level ship
    return _make(x, _K.SEGMENTATION, summary, reasons, winner=winner, evidence=evidence)
