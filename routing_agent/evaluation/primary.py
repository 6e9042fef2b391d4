"""The primary (and secondary) metric, each test arm against control: significance, then practical relevance.

**Fixed horizon (the pre-specified test).** Once every arm has its planned units, the metric's test is read:
two-sided superiority (two-proportion z — a score test near 0/1 rates —, Welch's t, or the delta-method
ratio z, by shape; CUPED when a ``covariate`` is declared) or non-inferiority with the YAML's margin. With
several test arms the p-values are adjusted across arms (Holm by default). Every traffic move is a
one-sided error of at most ``alpha / 2``. Verdicts:

* superiority: significant (two-sided p < alpha) in the good direction → ``win``, unless the whole CI lies
  below the MDE (the effect is *shown* smaller than the MDE) → ``trivial``. The MDE plans the sample, so at
  the planned n a significant effect's CI always reaches the MDE and the rule keeps the planned power
  (requiring the point estimate ≥ MDE would halve it). Significant the bad way → ``loss``; not
  significant → ``no_difference``, and with a ``margin`` the non-inferiority test at that margin (one-sided
  at ``alpha / 2``: the two-sided CI clears −margin) is run beside it (``ni``), which alone may let a
  cheaper arm be picked;
* non-inferiority: one-sided p < ``alpha / 2`` → ``non_inferior``; not → ``inferior``;
* a test flagged unreliable (``EffectResult.reliable`` False) → ``unreliable``: nothing moves on it.

**Before the planned sample** the verdict is ``pending`` unless the always-valid test is already
conclusive: superiority (mSPRT, two-sided at ``alpha / arms``) — significant in the good direction (and the
sequence not entirely below the MDE) is an early ``win``, significant the bad way an early ``loss``;
non-inferiority (one-sided against the margin at ``alpha / 2 / arms``) — the sequence's bad edge above the
margin is an early ``non_inferior``. The always-valid CI and p are what an early decision quotes.

**Effect vs MDE.** For ``no_difference`` the note says whether the confidence interval excludes effects as
large as the MDE (a real "no difference") or still includes them (no difference *detected*; more sample
would be needed to rule the MDE out).
"""

from __future__ import annotations

__all__ = ["MetricComparison", "Verdict", "compare_metric"]

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from routing_agent.config.spec import MetricSpec
from routing_agent.evaluation.metrics import MetricData
from routing_agent.evaluation.text import num
from routing_agent.stats import (
    CovariateSummary,
    EffectResult,
    SequentialResult,
    adjust_p_values,
    cuped,
)
from routing_agent.stats.multiplicity import Correction
from routing_agent.stats.results import Alternative

Verdict = Literal[
    "win", "trivial", "no_difference", "loss", "non_inferior", "inferior", "pending", "no_data", "unreliable"
]


@dataclass(frozen=True)
class MetricComparison:
    """One metric, one test arm against control: the fixed test, its adjusted p, the always-valid test."""

    metric: str
    role: Literal["primary", "secondary"]
    variant: str
    control: str
    shape: str
    test: Literal["superiority", "non_inferiority"]
    direction: Literal["increase", "decrease"]
    result: EffectResult | None
    adjusted_p_value: float | None
    sequential: SequentialResult | None
    mde: float | None  # absolute
    margin: float | None  # absolute, or relative when margin_relative
    margin_relative: bool
    verdict: Verdict
    early: bool = False
    note: str = ""
    ni: EffectResult | None = None  # superiority posture with a margin: the non-inferiority check

    @property
    def shown_non_inferior(self) -> bool:
        """Evidence of no loss beyond the margin: the NI test (or a significant gain) — the cheaper pick's
        condition."""
        if self.verdict in ("win", "trivial", "non_inferior"):
            return True
        ni = self.ni
        return ni is not None and ni.reliable and ni.p_value < ni.alpha

    @property
    def good(self) -> bool:
        """The estimate goes the metric's good way."""
        if self.result is None:
            return False
        effect = self.result.absolute_effect
        return effect > 0 if self.direction == "increase" else effect < 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "metric": self.metric,
            "role": self.role,
            "variant": self.variant,
            "control": self.control,
            "shape": self.shape,
            "test": self.test,
            "direction": self.direction,
            "verdict": self.verdict,
            "early": self.early,
            "mde": self.mde,
            "margin": self.margin,
            "margin_relative": self.margin_relative,
            "adjusted_p_value": self.adjusted_p_value,
            "result": self.result.to_json() if self.result is not None else None,
            "sequential": self.sequential.to_json() if self.sequential is not None else None,
            "note": self.note,
            "ni": self.ni.to_json() if self.ni is not None else None,
            "shown_non_inferior": self.shown_non_inferior,
        }


def _mde(m: MetricSpec, control_value: float) -> float:
    return m.mde * abs(control_value) if m.mde_relative else m.mde


def _equivalence_note(r: EffectResult, mde: float) -> str:
    if -mde < r.ci_low and r.ci_high < mde:
        return f"the CI rules out an effect as large as the MDE (±{num(mde)}): no difference that matters"
    side = "loss" if r.ci_low <= -mde else "gain"
    return (
        f"the CI does not rule out a {num(mde)} {side} (the MDE): no difference detected, not shown absent; "
        "more units would narrow it"
    )


def _sequential_verdict(m: MetricSpec, s: SequentialResult, mde: float, alpha: float) -> Verdict:
    """An early verdict from the always-valid test, or ``pending`` (``alpha``: two-sided, per arm)."""
    if not s.reliable:
        return "pending"
    sign = 1.0 if m.direction == "increase" else -1.0
    if m.test == "non_inferiority":
        low, high = (s.relative_ci_low, s.relative_ci_high) if m.margin_relative else (s.ci_low, s.ci_high)
        if low is None or high is None or m.margin is None:
            return "pending"
        bad_edge, good_edge = (low, high) if sign > 0 else (-high, -low)
        if bad_edge > -m.margin:
            return "non_inferior"
        return "inferior" if good_edge < -m.margin else "pending"
    if s.p_value >= alpha:
        return "pending"
    effect = sign * s.absolute_effect
    if effect > 0:
        far_edge = max(sign * s.ci_low, sign * s.ci_high)
        return "win" if far_edge >= mde else "pending"
    return "loss"


def _one_sided(m: MetricSpec) -> dict[str, Any]:
    """The non-inferiority primary's always-valid test: one-sided against the margin."""
    alternative: Alternative = "larger" if m.direction == "increase" else "smaller"
    return {"alternative": alternative}


def _fixed_verdict(m: MetricSpec, result: EffectResult, p_adj: float, mde: float) -> tuple[Verdict, str]:
    """The verdict at the planned sample (see the module docstring)."""
    sign = 1.0 if m.direction == "increase" else -1.0
    if not result.reliable:
        why = "; ".join(result.warnings) or "no detail"
        return "unreliable", f"the test is unreliable ({why}): no traffic moves on it"
    if m.test == "non_inferiority":
        return ("non_inferior" if p_adj < m.alpha / 2 else "inferior"), ""
    if p_adj >= m.alpha:
        return "no_difference", _equivalence_note(result, mde)
    if sign * result.absolute_effect <= 0:
        return "loss", ""
    far_edge = max(sign * result.ci_low, sign * result.ci_high)
    if far_edge < mde:
        return "trivial", (
            f"significant, but the whole CI lies below the MDE ({num(mde)}): shown smaller than it matters"
        )
    return "win", ""


def compare_metric(
    m: MetricSpec,
    data: MetricData,
    *,
    role: Literal["primary", "secondary"],
    control: str,
    arms: list[str],
    reached: bool,
    correction: Correction,
    horizon_units: int,
    early_stopping: bool,
    previous: Mapping[str, SequentialResult] | None = None,
    covariates: Mapping[str, CovariateSummary] | None = None,
) -> list[MetricComparison]:
    """Every test arm against control for one metric (see the module docstring)."""
    previous = previous or {}
    k = max(len(arms), 1)
    results: dict[str, EffectResult] = {}
    sequences: dict[str, SequentialResult] = {}
    for arm in arms:
        if not (data.has(control) and data.has(arm)):
            continue
        if m.test == "non_inferiority":
            assert m.margin is not None
            results[arm] = data.non_inferiority(
                control,
                arm,
                margin=m.margin,
                relative=m.margin_relative,
                direction=m.direction,
                alpha=m.alpha / 2,
            )
        elif covariates and control in covariates and arm in covariates:
            results[arm] = data.guarded(
                cuped(covariates[control], covariates[arm], alpha=m.alpha), control, arm
            )
        else:
            results[arm] = data.compare(control, arm, alpha=m.alpha)
        relative = m.test == "non_inferiority" and m.margin_relative
        null = 0.0  # superiority: H0 "no difference"; non-inferiority: H0 "worse by exactly the margin"
        extra: dict[str, Any] = {}
        seq_alpha = m.alpha / k
        if m.test == "non_inferiority" and m.margin is not None:
            null = -m.margin if m.direction == "increase" else m.margin
            extra = _one_sided(m)
            seq_alpha = m.alpha / 2 / k
        sequences[arm] = data.sequential(
            control, arm, alpha=seq_alpha, horizon_units=horizon_units,
            previous=previous.get(f"{role}:{m.name}:{arm}"), scale="relative" if relative else "absolute",
            null_value=null, **extra,
        )  # fmt: skip
    tested = list(results)
    adjusted = adjust_p_values([results[a].p_value for a in tested], method=correction, alpha=m.alpha)
    adjusted_by_arm = dict(zip(tested, adjusted.adjusted, strict=True))
    out: list[MetricComparison] = []
    for arm in arms:
        result, seq = results.get(arm), sequences.get(arm)
        common: dict[str, Any] = dict(
            metric=m.name, role=role, variant=arm, control=control, shape=data.shape, test=m.test,
            direction=m.direction, result=result, adjusted_p_value=adjusted_by_arm.get(arm), sequential=seq,
            margin=m.margin, margin_relative=m.margin_relative,
        )  # fmt: skip
        if result is None or seq is None:
            out.append(MetricComparison(**common, mde=None, verdict="no_data", note="no observations yet"))
            continue
        mde = _mde(m, result.control_mean)
        p_adj = adjusted_by_arm[arm]
        note = ""
        early = False
        verdict: Verdict
        ni = None
        if not reached:
            verdict = _sequential_verdict(m, seq, mde, m.alpha / k) if early_stopping else "pending"
            early = verdict != "pending"
        else:
            verdict, note = _fixed_verdict(m, result, p_adj, mde)
        if m.test == "superiority" and m.margin is not None and verdict in ("no_difference", "pending"):
            ni = data.non_inferiority(
                control, arm, margin=m.margin, relative=m.margin_relative, direction=m.direction,
                alpha=m.alpha / 2,
            )  # fmt: skip
        out.append(MetricComparison(**common, mde=mde, verdict=verdict, early=early, note=note, ni=ni))
    return out
