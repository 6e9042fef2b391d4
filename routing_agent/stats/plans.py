"""What a sample-size plan is and what it accepts: ``SampleSizePlan``, argument checks, allocation parsing.

``plan_sample_size`` (``routing_agent.stats.power``) returns a ``SampleSizePlan``; it first calls
``validate_plan_arguments``, so every unusable argument (a NaN, an ``alpha`` or ``power`` outside (0, 1), a
power not above ``alpha``, a traffic rate that is not positive) gets a ``ValueError`` in our words that names
the option and the fix, never a solver's internal message.
"""

from __future__ import annotations

__all__ = ["Cover", "Direction", "PlanTest", "SampleSizePlan", "parse_allocation", "validate_plan_arguments"]

import math
from dataclasses import dataclass
from typing import Literal

PlanTest = Literal["two-sided", "one-sided", "non-inferiority"]
Direction = Literal["increase", "decrease"]
Cover = Literal["needed", "improvement"]
"""``needed``: every direction the decision needs (both for two-sided); ``improvement``: the good one only."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SampleSizePlan:
    """What a test needs: units per arm (control first), total, days at a traffic rate, rule of thumb."""

    kind: Literal["proportion", "mean"]
    test: PlanTest
    baseline: float
    sd: float
    """Per-unit standard deviation in control (``√(p(1−p))`` for a rate)."""
    effect: float
    """Absolute difference the test is powered for (the MDE; for non-inferiority the true difference)."""
    margin: float | None
    alpha: float
    critical_value: float
    power: float
    achieved_power: float
    """Power of the weakest comparison at the rounded sizes (≥ ``power``)."""
    correction: str
    weights: tuple[float, ...]
    n_per_arm: tuple[int, ...]
    total: int
    exact_total: float
    """The continuous total at which the target power is reached exactly (before rounding up per arm)."""
    one_tail_total: float
    """The closed-form total that ignores the far tail (statsmodels' one-tail formula)."""
    rule_of_thumb_per_arm: int
    traffic_per_day: float | None
    days: float | None
    pooled: bool = False
    direction: Direction = "increase"
    score: bool = False
    """Planned for the score test (rates at or near 0/1), which the evaluator runs there."""
    covered: tuple[float, ...] = ()
    """The true differences (treatment − control) the plan reaches ``power`` against: both signs for a
    two-sided test of a rate, the good one for one-sided, 0 for non-inferiority."""
    note: str = ""

    def describe(self) -> list[str]:
        """Human-readable lines: the exact figure, the rule of thumb beside it, and the duration."""
        split = "/".join(f"{round(100 * w, 1):g}" for w in self.weights)
        if self.kind == "proportion":
            what = f"a rate: baseline {self.baseline:g}"
            moves = self.covered or (self._signed_effect,)
            target = (
                " (" + " or ".join(f"{self.baseline:g} → {self.baseline + d:g}" for d in moves) + ")"
                if not self.margin
                else ""
            )
            thumb = f"16·p(1−p)/Δ² = 16·{self.baseline:g}·{1 - self.baseline:g}/{self._tested:g}²"
            how = "two-proportion z test (" + ("pooled" if self.pooled else "unpooled") + ")"
            if self.score:
                how = "two-proportion score test (Miettinen–Nurminen)"
        else:
            what = f"a mean: baseline {self.baseline:g}, sd {self.sd:g}"
            target = ""
            thumb = f"16·σ²/Δ² = 16·{self.sd:g}²/{self._tested:g}²"
            how = "z test of means (unequal variances)"
        if self.margin is not None:
            goal = f"non-inferiority margin {self.margin:g} (true difference 0)"
        else:
            goal = f"MDE {self.effect:g}{target}"
        arms = ["control"] + [
            "treatment" if len(self.weights) == 2 else f"treatment-{i}" for i in range(1, len(self.weights))
        ]
        sizes = ", ".join(f"{a} {n:,}" for a, n in zip(arms, self.n_per_arm, strict=True))
        equal = len(set(self.n_per_arm)) == 1
        headline = f"{self.n_per_arm[0]:,} per arm" if equal else f"{self.total:,} in total"
        lines = [
            f"Sample size for {what}, {goal}",
            f"Test: {self.test} {how}, alpha = {self.alpha:g}, power = {100 * self.power:g}%,"
            f" allocation {split}",
        ]
        if self.correction != "none":
            lines.append(
                f"  {len(self.weights) - 1} comparisons with control, {self.correction}: "
                f"critical value {self.critical_value:.4f}"
            )
        lines += [
            f"  exact:          {headline}  ({sizes}; total {self.total:,};"
            f" power {100 * self.achieved_power:.2f}%)",
            f"  rule of thumb:  {self.rule_of_thumb_per_arm:,} per arm  ({thumb}; assumes 50/50, "
            "two-sided alpha 0.05, power 80%)",
        ]
        if self.note:
            lines.append(f"  note:           {self.note}")
        if self.days is not None and self.traffic_per_day:
            days = f"{self.days:.1f} days" if self.days >= 0.1 else f"{self.days * 24:.2g} hours"
            lines.append(f"  duration:       {days} at {self.traffic_per_day:,.0f} units/day")
        return lines

    @property
    def _tested(self) -> float:
        return self.margin if self.margin is not None else self.effect

    @property
    def _signed_effect(self) -> float:
        return self.effect if self.direction == "increase" else -self.effect


def parse_allocation(text: str) -> tuple[float, ...]:
    """``"0.8/0.2"``, ``"80/20"`` or ``"1:1:1"`` → normalised weights, control first."""
    parts = [p.strip() for p in text.replace(":", "/").replace(",", "/").split("/")]
    try:
        weights = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"allocation {text!r} should look like 0.8/0.2 or 80/20") from None
    if len(weights) < 2 or any(not math.isfinite(w) or w <= 0 for w in weights):
        raise ValueError(f"allocation {text!r} needs at least two positive shares")
    total = math.fsum(weights)
    return tuple(w / total for w in weights)


def _finite(name: str, value: float | None, *, positive: bool = False) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value:g}")


def validate_plan_arguments(
    *,
    baseline: float,
    mde: float,
    sd: float | None = None,
    mde_relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    test: str = "two-sided",
    margin: float | None = None,
    arms: int = 2,
    traffic_per_day: float | None = None,
    direction: str = "increase",
    correction: str = "bonferroni",
) -> None:
    """Raise ``ValueError`` naming the first argument ``plan_sample_size`` cannot plan with, and the fix."""
    for name, value in (("baseline", baseline), ("mde", mde), ("alpha", alpha), ("power", power)):
        _finite(name, value)
    _finite("sd", sd, positive=True)
    _finite("traffic per day", traffic_per_day, positive=True)
    _finite("margin", margin, positive=True)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (e.g. 0.05), got {alpha:g}")
    if not 0 < power < 1:
        raise ValueError(f"power must be between 0 and 1 (e.g. 0.8), got {power:g}")
    if power <= (alpha / 2 if test == "two-sided" else alpha):
        raise ValueError(
            f"power {power:g} is not above alpha {alpha:g}: a test rejects that often with no effect at all; "
            "ask for more power (e.g. 0.8) or a smaller alpha"
        )
    if mde == 0:
        raise ValueError("mde must be non-zero: the smallest effect worth detecting")
    if sd is None and not 0 < baseline < 1:
        raise ValueError(
            f"a rate's baseline must be strictly between 0 and 1, got {baseline:g} (give sd for a mean)"
        )
    if mde_relative and baseline == 0:
        raise ValueError("a relative mde needs a non-zero baseline")
    if test not in ("two-sided", "one-sided", "non-inferiority"):
        raise ValueError(f"test must be two-sided, one-sided or non-inferiority, got {test!r}")
    if test == "non-inferiority" and margin is None:
        raise ValueError("a non-inferiority plan needs a positive margin")
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be increase or decrease, got {direction!r}")
    if correction not in ("bonferroni", "dunnett"):
        raise ValueError(f"correction must be bonferroni or dunnett, got {correction!r}")
    if isinstance(arms, bool) or not isinstance(arms, int) or arms < 2:
        raise ValueError(f"an experiment needs at least 2 arms, got {arms!r}")
