"""Guardrails: stop rules checked at every look with an always-valid test: peeking cannot cause a false stop.

Each bound of a guardrail is one hypothesis per test arm. For ``max_ratio_to_control: r`` the quantity is the
linear contrast ``D = test − r·control`` (for ``min_ratio_to_control`` the same with the sign reversed;
for an absolute ``max``/``min`` it is ``D = test − limit``). The estimate ``D̂`` has variance
``Var(test) + r²·Var(control)`` — each arm's variance from its per-unit aggregates (delta method over units
for per-call metrics, the clustered quantile method for p50–p99), so calls of one session are never treated
as independent.

**A breach is declared** when, at this look,

1. the point estimate is beyond the bound (``test / control > r``, or ``test > limit``), and
2. the always-valid confidence sequence of ``D`` (the mixture SPRT of ``routing_agent.stats.sequential``, at
   ``guardrail_alpha``, intersected with every earlier look of the same process) excludes 0 on the bad side,
   i.e. the always-valid test rejects "within the bound", and
3. every arm involved has at least ``min_sample`` units with the metric, and
4. the test is sound: finite inputs and no warning on an arm's estimate (a quantile with too few values in
   its tail, a handful of units). A zero variance is not a flaw here: ``min_sample`` units all beyond the
   bound are a breach.

A bound without data, below ``min_sample``, or beyond the bound on an unsound test is
``insufficient_data`` — never ``held`` — and blocks every ship and every switch to a cheaper variant.

**Several guardrails** form one family: with ``guardrail_family: bonferroni`` (the default setting) each
of the ``m`` bounds × test arms is tested at ``guardrail_alpha / m``, so the chance of any false rollback,
over every bound and every look, is at most ``guardrail_alpha`` (Bonferroni + Ville).

Only then does a guardrail with ``action: rollback`` stop the test (``action: alert`` reports it). Under
"within the bound" the chance of *ever* declaring a breach, however often ``watch`` looks, is at most
``guardrail_alpha`` per bound and arm (Ville's inequality), so continuous checking does not inflate false
stops. The contrast form needs no division by the control's value, so a control refusal rate of 0 is not a
blind spot: ``≤ 2× control`` then means "no refusals", and a candidate that refuses is caught. The ratio and
its always-valid interval (``ci_low``/``ci_high``) are reported beside the verdict.
"""

from __future__ import annotations

__all__ = ["GuardrailCheck", "check_guardrails"]

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from routing_agent.config.spec import ExperimentSpec, GuardrailSpec
from routing_agent.evaluation.decision import GuardrailResult
from routing_agent.evaluation.metrics import MetricData, load_metric, load_quantiles
from routing_agent.evaluation.settings import GuardrailFamily
from routing_agent.stats import SequentialResult, sequential_test
from routing_agent.stats.results import ArmEstimate
from routing_agent.stores.observations.aggregates import LogHistogram
from routing_agent.stores.observations.base import ObservationStore

Kind = Literal["relative", "absolute"]
Side = Literal["max", "min"]

_QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


@dataclass(frozen=True)
class GuardrailCheck:
    """One bound × arm: the result record, the decision's test, and the ratio's own sequence (display)."""

    key: str  # stable across looks: the ``previous`` of the next evaluation
    result: GuardrailResult
    test: SequentialResult | None
    ratio_test: SequentialResult | None = None


def _bounds(g: GuardrailSpec) -> list[tuple[Kind, Side, float]]:
    out: list[tuple[Kind, Side, float]] = []
    if g.max_ratio_to_control is not None:
        out.append(("relative", "max", g.max_ratio_to_control))
    if g.min_ratio_to_control is not None:
        out.append(("relative", "min", g.min_ratio_to_control))
    if g.max is not None:
        out.append(("absolute", "max", g.max))
    if g.min is not None:
        out.append(("absolute", "min", g.min))
    return out


def _label(g: GuardrailSpec, kind: Kind, side: Side, limit: float, per_unit: bool) -> str:
    what = f"{g.statistic} {g.metric}" + (" per unit" if per_unit and g.statistic == "mean" else "")
    if g.agent:
        what += f" ({g.agent})"
    sign = "≤" if side == "max" else "≥"
    return f"{what} {sign} {limit:g}× control" if kind == "relative" else f"{what} {sign} {limit:g}"


def _arms(
    g: GuardrailSpec,
    store: ObservationStore,
    experiment: str,
    variants: list[str],
    *,
    alpha: float,
    cache: dict[tuple[str, str | None], dict[str, LogHistogram]],
) -> tuple[dict[str, ArmEstimate], dict[str, list[str]], bool]:
    """Each variant's estimate of the guardrail's statistic, its warnings, and whether it is per unit."""
    if g.statistic == "mean":
        data: MetricData = load_metric(store, experiment, g.metric, agent=g.agent)
        arms = {v: data.arm(v) for v in variants if data.has(v)}
        issues = {v: [i] for v in arms if (i := data.precision_issue(v)) is not None}
        return arms, issues, data.shape == "per_unit_total"
    q = _QUANTILES[g.statistic]
    estimates = load_quantiles(
        store, experiment, g.metric, q, variants, agent=g.agent, alpha=alpha, cache=cache
    )
    return (
        {v: e.arm() for v, e in estimates.items()},
        {v: list(e.warnings) for v, e in estimates.items()},
        False,
    )


def _beyond(side: Side, estimate: float) -> bool:
    return estimate > 0 if side == "max" else estimate < 0


def _verdict(side: Side, estimate: float, test: SequentialResult) -> bool:
    if side == "max":
        return estimate > 0 and test.ci_low > 0
    return estimate < 0 and test.ci_high < 0


def _sound(arms: tuple[ArmEstimate | None, ...], warnings: list[str]) -> bool:
    """Finite estimates and no warning on an arm's estimate (see the module docstring, rule 4)."""
    finite = all(math.isfinite(a.mean) and math.isfinite(a.variance_of_mean) for a in arms if a is not None)
    return finite and not warnings


def _breach_p(side: Side, test: SequentialResult) -> float:
    """The always-valid p-value against "within the bound": 1 while the estimate is on the good side."""
    bad = test.absolute_effect > 0 if side == "max" else test.absolute_effect < 0
    return test.p_value if bad else 1.0


def _method(test: SequentialResult, kind: Kind, limit: float) -> str:
    contrast = f"test − {limit:g}×control" if kind == "relative" else f"test − {limit:g}"
    return f"{test.method} of {contrast}"


def _finite(a: ArmEstimate) -> ArmEstimate:
    ok = math.isfinite(a.mean) and math.isfinite(a.variance_of_mean)
    return a if ok else ArmEstimate(0.0, 0.0, a.n)


def _check(
    g: GuardrailSpec,
    key: str,
    labels: tuple[Kind, Side, float, str],
    c: ArmEstimate | None,
    t: ArmEstimate | None,
    *,
    alpha: float,
    horizon_units: int,
    previous: Mapping[str, SequentialResult],
    warnings: list[str],
) -> GuardrailCheck:
    """One bound for one arm against control (``c``) or against the absolute limit."""
    kind, side, limit, bound = labels
    arm_fields = dict(
        metric=g.metric, statistic=g.statistic, bound=bound, action=g.action, kind=kind, side=side,
        limit=limit, min_sample=g.min_sample, agent=g.agent,
    )  # fmt: skip
    if t is None or (kind == "relative" and c is None):
        missing = f"no observations of {g.metric} in {'the test arm' if t is None else 'control'} yet"
        result = GuardrailResult(
            variant=key.rsplit(":", 1)[1], control_value=c.mean if c else None,
            test_value=t.mean if t else None, ratio=None, breached=False, enough_sample=False,
            n_control=c.n if c else 0, n_test=t.n if t else 0, reliable=False, warnings=(missing,),
            **arm_fields,  # type: ignore[arg-type]
        )  # fmt: skip
        return GuardrailCheck(key, result, None)
    horizon = max(horizon_units, 2)
    if kind == "relative":
        assert c is not None
        scaled = ArmEstimate(limit * c.mean, limit * limit * c.variance_of_mean, c.n)
        enough = min(c.n, t.n) >= g.min_sample
    else:
        scaled = ArmEstimate(limit, 0.0, t.n)
        enough = t.n >= g.min_sample
    if kind == "relative" and c is not None and min(c.mean, t.mean) < 0:
        warnings = [
            *warnings,
            f"negative {g.metric} values (control {c.mean:.4g}, test {t.mean:.4g}): a ratio to control "
            "has no meaning; use an absolute bound (max/min) for a metric that can be negative",
        ]
    sound = _sound((c if kind == "relative" else None, t), warnings)
    if not sound:
        scaled, t = _finite(scaled), _finite(t)
    test = sequential_test(scaled, t, alpha=alpha, horizon_units=horizon, previous=previous.get(key))
    ratio = t.mean / c.mean if c is not None and c.mean > 0 and t.mean >= 0 else None
    ratio_test = None
    low = high = None
    if kind == "absolute":
        low, high = limit + test.ci_low, limit + test.ci_high
    elif c is not None and c.mean > 0 and t.mean >= 0:
        ratio_test = sequential_test(
            c, t, alpha=alpha, scale="relative", horizon_units=horizon, previous=previous.get(key + ":ratio")
        )
        # The interval shown is the tested contrast's, on the ratio scale: (test − limit×control) / control
        # + limit. It excludes the limit exactly when the verdict does, so a "breached, p < 0.001" never sits
        # beside an interval that contains the bound (a separate delta-method ratio interval could).
        low = max(0.0, limit + test.ci_low / c.mean)  # a ratio of non-negative values is ≥ 0
        high = max(0.0, limit + test.ci_high / c.mean)
    result = GuardrailResult(
        variant=key.rsplit(":", 1)[1], control_value=c.mean if c is not None else None, test_value=t.mean,
        ratio=ratio, breached=sound and _verdict(side, test.absolute_effect, test), enough_sample=enough,
        p_value=_breach_p(side, test), n_control=c.n if c is not None else 0, n_test=t.n, ci_low=low,
        ci_high=high,
        method=_method(test, kind, limit), reliable=sound, warnings=tuple(warnings) + test.warnings,
        beyond_bound=_beyond(side, test.absolute_effect),
        **arm_fields,  # type: ignore[arg-type]
    )  # fmt: skip
    return GuardrailCheck(key, result, test, ratio_test)


def check_guardrails(
    spec: ExperimentSpec,
    store: ObservationStore,
    *,
    control: str,
    arms: list[str],
    alpha: float,
    horizon_units: int,
    previous: Mapping[str, SequentialResult] | None = None,
    histograms: dict[tuple[str, str | None], dict[str, LogHistogram]] | None = None,
    family: GuardrailFamily = "bonferroni",
) -> list[GuardrailCheck]:
    """Every bound of every guardrail for every test arm (see the module docstring).

    ``alpha`` is the family's level: each bound × arm is tested at ``alpha / m`` under ``bonferroni``.

    ``histograms`` caches the quantile guardrails' histograms per (metric, agent) for the caller.
    """
    checks: list[GuardrailCheck] = []
    cache = {} if histograms is None else histograms
    if family == "bonferroni":
        alpha /= max(1, len(arms) * sum(len(_bounds(g)) for g in spec.guardrails))
    for index, g in enumerate(spec.guardrails):
        estimates, notes, per_unit = _arms(g, store, spec.id, [control, *arms], alpha=alpha, cache=cache)
        for kind, side, limit in _bounds(g):
            bound = _label(g, kind, side, limit, per_unit)
            for arm in arms:
                warnings = [f"{arm}: {w}" for w in notes.get(arm, [])]
                if kind == "relative":
                    warnings += [f"{control}: {w}" for w in notes.get(control, [])]
                checks.append(
                    _check(
                        g, f"guardrail:{index}:{kind}:{side}:{arm}", (kind, side, limit, bound),
                        estimates.get(control), estimates.get(arm), alpha=alpha,
                        horizon_units=horizon_units, previous=previous or {}, warnings=warnings,
                    )
                )  # fmt: skip
    return checks
