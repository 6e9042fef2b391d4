"""Power and sample size for the tests the evaluator runs, beside the seeds' rule of thumb.

The "exact" figure is the smallest sample for which the normal-approximation power of the test we actually
run reaches the target: the unpooled (Wald) two-proportion z test or the unequal-variance z test of means,
at the configured allocation, counting *both* tails of a two-sided test, solved numerically and rounded up
per arm. With ``pooled=True`` the null standard error uses the pooled rate (Fleiss' formula; the same
power as ``statsmodels.stats.proportion.power_proportions_2indep``). ``one_tail_total`` is the textbook
closed form ``N = ((z₁₋α·s₀ + z₁₋β·s₁) / Δ)²`` that ignores the far tail (statsmodels'
``samplesize_proportions_2indep_onetail``); it differs from the exact figure by well under one unit.

Direction: a rate's variance depends on where it moves, so a two-sided plan is solved for a rise *and* a
drop of the MDE and takes the larger size (``cover="needed"``, the default): at baseline 0.85 and MDE 0.02
the rise-only plan has 75.5 % power against a drop to 0.83. A one-sided superiority plan covers the good
direction, a non-inferiority plan the drop to the margin; ``cover="improvement"`` restores the rise-only
figure (statsmodels' convention). Near 0 or 1 a move that reaches the boundary (0.995 → 1.0) is planned
with the score test's null variance (the Miettinen–Nurminen restricted rates), which the evaluator runs
there, so such plans stay finite; a move past the boundary is left out and the plan says so.

Every argument is checked first (``validate_plan_arguments``): a non-finite number, an ``alpha`` or
``power`` outside (0, 1), a power not above ``alpha``, or a traffic rate that is not positive raises a
``ValueError`` that names the option and the fix.

The rule of thumb ``16·p(1−p)/MDE²`` (``16·σ²/MDE²`` for means) is Lehr's: 2·(1.96 + 0.84)² ≈ 15.7 for a
two-sided α = 0.05 and 80% power with equal arms; it is shown next to the exact figure, never used.

Several arms: k = arms − 1 treatment arms each compared with control. ``correction="bonferroni"`` tests each
at α/k (valid for any allocation, and conservative for the Holm procedure the evaluator uses);
``"dunnett"`` uses Dunnett's critical value for equal treatment arms (less conservative). The sample size
makes every comparison reach the target power.
"""

from __future__ import annotations

__all__ = [
    "Cover",
    "PlanTest",
    "SampleSizePlan",
    "parse_allocation",
    "plan_sample_size",
    "power_means",
    "power_proportions",
    "rule_of_thumb",
    "validate_plan_arguments",
]

import math
from collections.abc import Sequence
from typing import Literal

from scipy import optimize, special

from routing_agent.stats.frequentist import WALD_MIN_COUNT
from routing_agent.stats.multiplicity import dunnett_critical_value
from routing_agent.stats.plans import (
    Cover,
    Direction,
    PlanTest,
    SampleSizePlan,
    parse_allocation,
    validate_plan_arguments,
)
from routing_agent.stats.proportions import restricted_rates


def _ndtr(x: float) -> float:
    return float(special.ndtr(x))


def _z(p: float) -> float:
    return float(special.ndtri(p))


def _power(delta: float, se_alt: float, se_null: float, crit: float, two_sided: bool) -> float:
    """P(reject) when the estimate ~ N(delta, se_alt²) and the test rejects beyond ``crit·se_null``."""
    if se_alt <= 0:
        return 1.0 if abs(delta) > crit * se_null else 0.0
    power = _ndtr((delta - crit * se_null) / se_alt)
    if two_sided:
        power += _ndtr((-delta - crit * se_null) / se_alt)
    return power


def _critical(alpha: float, test: PlanTest) -> float:
    return _z(1.0 - alpha / 2.0) if test == "two-sided" else _z(1.0 - alpha)


def _tested(diff: float, test: PlanTest, margin: float, direction: Direction) -> float:
    """The distance from H0 that a test sees: signed for one-sided tests, shifted by a NI margin."""
    if test == "two-sided":
        return diff
    signed = diff if direction == "increase" else -diff
    return signed + (margin if test == "non-inferiority" else 0.0)


def power_proportions(
    control_rate: float,
    treatment_rate: float,
    n_control: float,
    n_treatment: float,
    *,
    alpha: float = 0.05,
    test: PlanTest = "two-sided",
    margin: float = 0.0,
    direction: Direction = "increase",
    pooled: bool = False,
    critical_value: float | None = None,
    score: bool = False,
) -> float:
    """Power of the two-proportion z test at these rates and sizes (normal approximation).

    One-sided and non-inferiority tests look in the metric's good ``direction``; for non-inferiority
    ``margin`` is the absolute margin (H0: the candidate is worse by at least ``margin``).
    ``pooled`` uses the pooled rate for the null standard error (superiority tests only); ``score`` the
    score test's (the restricted maximum-likelihood rates under H0, valid at 0 and 1).
    """
    vc, vt = control_rate * (1 - control_rate), treatment_rate * (1 - treatment_rate)
    se_alt = math.sqrt(vc / n_control + vt / n_treatment)
    se_null = se_alt
    if score:
        null = 0.0
        if test == "non-inferiority":
            null = -margin if direction == "increase" else margin
        r_c, r_t = restricted_rates(
            control_rate * n_control, n_control, treatment_rate * n_treatment, n_treatment, null_value=null
        )
        se_null = math.sqrt(r_c * (1 - r_c) / n_control + r_t * (1 - r_t) / n_treatment)
    elif pooled and test != "non-inferiority":
        p = (control_rate * n_control + treatment_rate * n_treatment) / (n_control + n_treatment)
        se_null = math.sqrt(p * (1 - p) * (1 / n_control + 1 / n_treatment))
    delta = _tested(treatment_rate - control_rate, test, margin, direction)
    crit = critical_value if critical_value is not None else _critical(alpha, test)
    return _power(delta, se_alt, se_null, crit, test == "two-sided")


def power_means(
    effect: float,
    sd: float,
    n_control: float,
    n_treatment: float,
    *,
    sd_treatment: float | None = None,
    alpha: float = 0.05,
    test: PlanTest = "two-sided",
    margin: float = 0.0,
    direction: Direction = "increase",
    critical_value: float | None = None,
) -> float:
    """Power of the unequal-variance z test of means (Welch's t for large n); ``effect`` is t − c."""
    sd_t = sd if sd_treatment is None else sd_treatment
    se = math.sqrt(sd * sd / n_control + sd_t * sd_t / n_treatment)
    delta = _tested(effect, test, margin, direction)
    crit = critical_value if critical_value is not None else _critical(alpha, test)
    return _power(delta, se, se, crit, test == "two-sided")


def rule_of_thumb(mde: float, *, baseline: float | None = None, sd: float | None = None) -> int:
    """``16·p(1−p)/MDE²`` per arm for a rate, ``16·σ²/MDE²`` for a mean (α = 0.05 two-sided, 80% power)."""
    variance = sd * sd if sd is not None else (baseline or 0.0) * (1 - (baseline or 0.0))
    return math.ceil(round(16.0 * variance / (mde * mde), 6))


def _weights(weights: Sequence[float] | None, arms: int) -> tuple[float, ...]:
    if weights is None:
        return tuple(1.0 / arms for _ in range(arms))
    w = [float(x) for x in weights]
    if len(w) != arms or any(x <= 0 for x in w):
        raise ValueError(f"need {arms} positive weights (control first), got {list(weights)}")
    total = math.fsum(w)
    return tuple(x / total for x in w)


def _few_outcomes(baseline: float, deltas: list[float], weights: tuple[float, ...], total: float) -> bool:
    """Whether an arm expects fewer than 10 successes or failures at this total (the Wald test's limit)."""

    rates = [baseline] + [baseline + d for d in deltas]
    smallest = min(min(r, 1 - r) for r in rates) * min(weights) * total
    return smallest < WALD_MIN_COUNT


def plan_sample_size(
    *,
    baseline: float,
    mde: float,
    sd: float | None = None,
    mde_relative: bool = False,
    direction: Direction = "increase",
    alpha: float = 0.05,
    power: float = 0.8,
    test: PlanTest = "two-sided",
    margin: float | None = None,
    margin_relative: bool = False,
    weights: Sequence[float] | None = None,
    arms: int = 2,
    correction: Literal["bonferroni", "dunnett"] = "bonferroni",
    pooled: bool = False,
    traffic_per_day: float | None = None,
    cover: Cover = "needed",
) -> SampleSizePlan:
    """Units per arm for a rate (no ``sd``) or a mean (``sd`` given) to reach ``power`` at ``alpha``.

    ``mde`` is the smallest effect worth detecting (absolute, or a share of ``baseline`` with
    ``mde_relative``), in the metric's good ``direction``. For ``test="non-inferiority"`` give ``margin``;
    the plan then assumes the true difference is 0 and ``mde`` is unused. ``weights`` is the allocation,
    control first (``(0.8, 0.2)``); ``traffic_per_day`` is units entering the experiment per day.
    ``cover`` picks the directions planned for (see the module docstring).
    """
    validate_plan_arguments(
        baseline=baseline, mde=mde, sd=sd, mde_relative=mde_relative, alpha=alpha, power=power, test=test,
        margin=margin, arms=arms, traffic_per_day=traffic_per_day, direction=direction, correction=correction,
    )  # fmt: skip
    kind: Literal["proportion", "mean"] = "mean" if sd is not None else "proportion"
    effect = abs(mde * baseline if mde_relative else mde)
    sign = 1.0 if direction == "increase" else -1.0
    abs_margin: float | None = None
    if test == "non-inferiority":
        assert margin is not None
        abs_margin = abs(margin * baseline if margin_relative else margin)
    w = _weights(weights, arms)
    k = arms - 1
    if correction == "dunnett" and k > 1:
        if max(w[1:]) - min(w[1:]) > 1e-12:
            raise ValueError("Dunnett's critical value needs equal treatment-arm weights; use bonferroni")
        rho = w[1] / (w[1] + w[0])
        crit = dunnett_critical_value(k, alpha, rho=rho, two_sided=test == "two-sided")
    else:
        crit = _critical(alpha / k, test)

    if abs_margin is not None:
        wanted = [0.0]
    elif test == "two-sided" and kind == "proportion" and cover == "needed":
        wanted = [sign * effect, -sign * effect]
    else:
        wanted = [sign * effect]
    deltas = wanted
    if kind == "proportion":
        deltas = [d for d in wanted if 0 <= baseline + d <= 1]
        if not deltas:
            raise ValueError(f"baseline {baseline:g} with mde {effect:g} leaves the [0, 1] range")
    sd_c = math.sqrt(baseline * (1 - baseline)) if kind == "proportion" else float(sd)  # type: ignore[arg-type]

    score_all = False

    def on_boundary(delta: float) -> bool:
        return kind == "proportion" and (score_all or baseline + delta in (0.0, 1.0))

    def power_at(nc: float, nt: float, delta: float) -> float:
        if kind == "proportion":
            return power_proportions(
                baseline, baseline + delta, nc, nt, test=test, margin=abs_margin or 0.0,
                direction=direction, pooled=pooled, critical_value=crit, score=on_boundary(delta),
            )  # fmt: skip
        return power_means(
            delta, sd_c, nc, nt, test=test, margin=abs_margin or 0.0, direction=direction,
            critical_value=crit,
        )  # fmt: skip

    null_difference = 0.0 if abs_margin is None else -sign * abs_margin

    def solve() -> tuple[list[float], list[float]]:
        totals, one_tails = [], []
        for delta in deltas:
            sd_t = math.sqrt((baseline + delta) * (1 - baseline - delta)) if kind == "proportion" else sd_c
            test_for_distance = test if test != "two-sided" else "one-sided"
            direction_seen: Direction = direction
            if test == "two-sided" and delta * sign < 0:
                direction_seen = "decrease" if direction == "increase" else "increase"
            tested = _tested(delta, test_for_distance, abs_margin or 0.0, direction_seen)
            for wt in sorted(set(w[1:])):
                s_alt = math.sqrt(sd_c**2 / w[0] + sd_t**2 / wt)
                s_null = s_alt
                if on_boundary(delta):
                    r_c, r_t = restricted_rates(
                        baseline * w[0], w[0], (baseline + delta) * wt, wt, null_value=null_difference
                    )
                    s_null = math.sqrt(r_c * (1 - r_c) / w[0] + r_t * (1 - r_t) / wt)
                elif pooled and kind == "proportion" and abs_margin is None:
                    p = (w[0] * baseline + wt * (baseline + delta)) / (w[0] + wt)
                    s_null = math.sqrt(p * (1 - p) * (1 / w[0] + 1 / wt))
                one_tail = ((crit * s_null + _z(power) * s_alt) / tested) ** 2
                one_tails.append(one_tail)
                solved = optimize.brentq(
                    lambda n, wt=wt, delta=delta: power_at(w[0] * n, wt * n, delta) - power,
                    1e-9,
                    one_tail * 1.001 + 1.0,
                    xtol=1e-10,
                    rtol=1e-15,
                )
                totals.append(float(solved))
        return totals, one_tails

    totals, one_tails = solve()
    if kind == "proportion" and _few_outcomes(baseline, deltas, w, max(totals)):
        score_all = True  # the evaluator will run the score test at these counts: plan for it
        totals, one_tails = solve()
    exact_total = max(totals)
    n_per_arm = tuple(math.ceil(round(x * exact_total, 9)) for x in w)
    achieved = min(power_at(n_per_arm[0], n_per_arm[i], d) for i in range(1, arms) for d in deltas)
    total = sum(n_per_arm)
    skipped = [d for d in wanted if d not in deltas]
    note = ""
    if skipped:
        note = (
            f"a move of {skipped[0]:+g} from {baseline:g} leaves [0, 1]; planned for "
            + " and ".join(f"{d:+g}" for d in deltas)
            + " only"
        )
    return SampleSizePlan(
        kind=kind, test=test, baseline=baseline, sd=sd_c, effect=0.0 if abs_margin is not None else effect,
        margin=abs_margin, alpha=alpha, critical_value=crit, power=power, achieved_power=achieved,
        correction="none" if k == 1 else correction, weights=w, n_per_arm=n_per_arm, total=total,
        exact_total=exact_total, one_tail_total=max(one_tails),
        rule_of_thumb_per_arm=rule_of_thumb(abs_margin or effect, baseline=baseline, sd=sd),
        traffic_per_day=traffic_per_day,
        days=total / traffic_per_day if traffic_per_day else None, pooled=pooled,
        direction=direction, covered=tuple(deltas), note=note,
        score=score_all or any(on_boundary(d) for d in deltas),
    )  # fmt: skip
