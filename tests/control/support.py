"""Experiment specs and real ``Decision``s computed from data in the test (the evaluator's contract).

These are not mocks of the evaluator: each Decision is what a reading of the given samples implies (p95
latency ratio against a guardrail bound; a two-proportion z-test on a binary primary metric), built with the
shared ``Decision`` / ``GuardrailResult`` records the real evaluator returns.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import stats

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.decision import Decision, DecisionKind, GuardrailResult


def latency_decision(
    spec: ExperimentSpec,
    control: np.ndarray,
    test: np.ndarray,
    *,
    max_ratio: float = 1.3,
    min_sample: int = 50,
) -> Decision:
    """Roll back when the test arm's p95 latency exceeds ``max_ratio`` × control's (with enough sample)."""
    c95, t95 = float(np.percentile(control, 95)), float(np.percentile(test, 95))
    ratio = t95 / c95
    enough = min(len(control), len(test)) >= min_sample
    breached = enough and ratio > max_ratio
    guardrail = GuardrailResult(
        metric="latency_s",
        statistic="p95",
        variant="candidate",
        control_value=c95,
        test_value=t95,
        ratio=ratio,
        bound=f"p95 latency_s ≤ {max_ratio:g}× control",
        breached=breached,
        enough_sample=enough,
        n_control=len(control),
        n_test=len(test),
    )
    if breached:
        kind = DecisionKind.ROLLBACK
        summary = f"Roll back: candidate p95 latency is {ratio:.2f}× control (bound {max_ratio:g}×)."
    else:
        kind = DecisionKind.KEEP_RUNNING
        summary = f"Keep running: p95 latency ratio {ratio:.2f}× holds (n={len(control)}/{len(test)})."
    return Decision(
        experiment=spec.id,
        kind=kind,
        summary=summary,
        guardrails=(guardrail,),
        reasons=(f"guardrail {guardrail.bound}: ratio {ratio:.2f}",),
        review_required=spec.review == "required",
        evaluated_at=time.time(),
    )


def conversion_decision(spec: ExperimentSpec, control: np.ndarray, test: np.ndarray) -> Decision:
    """Ship the candidate when its success rate is significantly higher (two-sided z-test, alpha 0.05)."""
    p_c, p_t = float(control.mean()), float(test.mean())
    pooled = (control.sum() + test.sum()) / (len(control) + len(test))
    se = float(np.sqrt(pooled * (1 - pooled) * (1 / len(control) + 1 / len(test))))
    z = (p_t - p_c) / se
    p_value = float(2 * stats.norm.sf(abs(z)))
    better = p_value < 0.05 and p_t > p_c
    return Decision(
        experiment=spec.id,
        kind=DecisionKind.SHIP if better else DecisionKind.KEEP_RUNNING,
        summary=f"candidate {p_t:.3f} vs control {p_c:.3f} (p = {p_value:.2g})",
        winner="candidate" if better else None,
        reasons=(f"two-proportion z = {z:.2f}",),
        review_required=spec.review == "required",
        evaluated_at=time.time(),
        evidence={"p_value": p_value, "control_rate": p_c, "test_rate": p_t},
    )


def slow_candidate(seed: int = 7, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Latencies (s): control lognormal around 1 s, candidate twice as slow."""
    rng = np.random.default_rng(seed)
    control = rng.lognormal(mean=0.0, sigma=0.3, size=n)
    return control, 2.0 * rng.lognormal(mean=0.0, sigma=0.3, size=n)


def better_candidate(seed: int = 11, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Binary outcomes: control succeeds 80% of the time, candidate 86%."""
    rng = np.random.default_rng(seed)
    return (rng.random(n) < 0.80).astype(float), (rng.random(n) < 0.86).astype(float)
