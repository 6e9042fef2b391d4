"""The decision record: what the evaluator concluded and the evidence, read by control, CLI and reports.

The rules that produce it, and the error rate each is calibrated to, are the decision policy in
``routing_agent.evaluation.policy``. ``kind`` is one of:

* ``rollback`` — a guardrail with ``action: rollback`` was breached (sound test, minimum sample), or the
  primary metric showed every candidate significantly worse (or, for a non-inferiority test, not shown
  non-inferior at the planned sample): everyone back on control;
* ``invalid`` — the data cannot be trusted (sample-ratio mismatch, differential attrition of primary
  outcomes, too many invalid judge scores or unpriced calls): fix the cause before reading anything;
* ``keep_running`` — not enough sample yet (``sample_needed`` more units per arm, ``days_remaining`` at
  current traffic), an unreliable primary test, or a guardrail with insufficient data where the primary
  alone would move traffic (``evidence["blocked"]`` names the decision it blocked);
* ``ship`` — the candidate is significantly better (or shown non-inferior, for a non-inferiority test) and
  every guardrail of the arm was read and held; with ``review: required`` it waits for a person;
* ``no_difference`` — the planned sample was reached and superiority was not shown: ``winner`` is the
  significantly cheaper variant only where non-inferiority at the declared margin was shown, else control;
* ``segmentation`` — a move to a candidate that is significantly worse on a declared segment: not a win but
  a segmentation decision for a person (``winner`` is the overall winner, ``evidence["segments_worse"]``
  names the losing segments); ``watch`` changes nothing.
"""

from __future__ import annotations

__all__ = ["Decision", "DecisionKind", "GuardrailResult", "jsonable"]

import math
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from routing_agent.evaluation.text import units


class DecisionKind(StrEnum):
    """What to do with the experiment."""

    SHIP = "ship"
    KEEP_RUNNING = "keep_running"
    ROLLBACK = "rollback"
    NO_DIFFERENCE = "no_difference"
    INVALID = "invalid"
    SEGMENTATION = "segmentation"


def jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as None and tuples as lists (nested): strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class GuardrailResult:
    """One bound of one guardrail checked for one test arm.

    ``breached`` is the verdict of the always-valid test (see ``routing_agent.evaluation.guardrails``): the
    point estimate is beyond the bound *and* the confidence sequence excludes the bound. A breach counts
    (stops the test) only with ``enough_sample``. ``ci_low``/``ci_high`` bound the ratio test / control for
    a relative bound and the test arm's value for an absolute one.
    """

    metric: str
    statistic: str  # mean | p50 | p90 | p95 | p99
    variant: str  # the test arm
    control_value: float | None
    test_value: float | None
    ratio: float | None  # test / control
    bound: str  # human-readable rule, e.g. "p95 latency_s ≤ 1.3× control"
    breached: bool
    enough_sample: bool  # both arms reached the guardrail's min_sample
    p_value: float | None = None  # always-valid p-value of the breach test, when computed
    n_control: int = 0
    n_test: int = 0
    action: str = "rollback"
    kind: str = "relative"  # relative (to control) | absolute
    side: str = "max"  # max: breached above the limit | min: breached below it
    limit: float | None = None  # the ratio (relative) or the value (absolute) in the YAML
    ci_low: float | None = None  # always-valid confidence sequence of the ratio (relative) / value (absolute)
    ci_high: float | None = None
    min_sample: int = 0
    agent: str | None = None
    method: str = ""
    reliable: bool = True
    warnings: tuple[str, ...] = ()
    beyond_bound: bool = False  # the point estimate is on the bad side of the bound

    @property
    def status(self) -> str:
        """``breached`` | ``held`` | ``insufficient_data`` (no data, below ``min_sample``, or an estimate
        beyond the bound whose test is unreliable): never ``held`` without evidence."""
        if self.test_value is None or (self.kind == "relative" and self.control_value is None):
            return "insufficient_data"
        if not self.enough_sample or (self.beyond_bound and not self.reliable):
            return "insufficient_data"
        return "breached" if self.breached else "held"

    @property
    def insufficient(self) -> bool:
        """No verdict yet: blocks every ship and every switch to a cheaper variant."""
        return self.status == "insufficient_data"

    def why_insufficient(self) -> str:
        """Why this bound cannot be read yet, in words."""
        where = f"{self.bound} [{self.variant}]"
        if self.test_value is None or (self.kind == "relative" and self.control_value is None):
            return f"{where}: no observations of {self.metric}" + (
                f" from agent '{self.agent}'" if self.agent else ""
            )
        if not self.enough_sample:
            have = min(self.n_test, self.n_control) if self.kind == "relative" else self.n_test
            return f"{where}: {units(have)} of the {units(self.min_sample)} units it needs"
        detail = "; ".join(self.warnings) or "no detail"
        return f"{where}: beyond the bound but its test is unreliable ({detail})"

    @property
    def stops(self) -> bool:
        """Breached with enough sample and ``action: rollback``: the test stops."""
        return self.breached and self.enough_sample and self.action == "rollback"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (non-finite numbers as null)."""
        out: dict[str, Any] = jsonable({f.name: getattr(self, f.name) for f in fields(self)})
        out["status"] = self.status
        return out


@dataclass(frozen=True)
class Decision:
    """The evaluator's conclusion for one experiment, with its evidence."""

    experiment: str
    kind: DecisionKind
    summary: str  # one sentence with the evidence, like the playbook's worked example
    winner: str | None = None  # the variant to ship / pick (ship, no_difference, segmentation); else None
    reasons: tuple[str, ...] = ()  # the reading-order steps that led here, one line each
    guardrails: tuple[GuardrailResult, ...] = ()
    sample_needed: int | None = None  # more units per arm still needed (keep_running)
    days_remaining: float | None = None  # at current traffic (keep_running)
    review_required: bool = False
    evaluated_at: float = 0.0  # unix seconds
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def breached(self) -> tuple[GuardrailResult, ...]:
        """Guardrails that were breached with enough sample."""
        return tuple(g for g in self.guardrails if g.breached and g.enough_sample)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "experiment": self.experiment,
            "kind": self.kind.value,
            "summary": self.summary,
            "winner": self.winner,
            "reasons": list(self.reasons),
            "guardrails": [g.to_json() for g in self.guardrails],
            "sample_needed": self.sample_needed,
            "days_remaining": jsonable(self.days_remaining),
            "review_required": self.review_required,
            "evaluated_at": self.evaluated_at,
            "evidence": jsonable(self.evidence),
        }
