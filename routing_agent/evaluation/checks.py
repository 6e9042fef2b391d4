"""Validity checks: is the data trustworthy enough to read at all? A failure makes the decision ``invalid``.

* **Sample-ratio mismatch** — units per variant (the assignment store's counts; the observation store's units
  when no assignment store is given) against the configured weights, with ``routing_agent.stats.srm_test``
  (chi-square, p below ``srm_threshold`` *and* a share off by more than ``srm_min_relative_deviation``).
* **Invalid judge verdicts** — every ``<scorer>.invalid`` metric (the judge scorers record 1 for a verdict
  that stayed unusable after a retry, 0 otherwise): the share per arm must not exceed
  ``max_invalid_judge_rate``. Invalid verdicts are left out of the judge metric, so a high share in one arm
  biases the comparison.
* **Unpriced calls** — the ``unpriced`` metric (1 for a call whose model has no price): above
  ``max_unpriced_rate`` in any arm, cost comparisons and the cheaper-variant pick cannot be trusted. The
  message names the arm's model and the cause: calls that reported no token usage (the ``usage_missing``
  metric; typically streamed calls to an OpenAI-compatible endpoint without ``stream_usage``) or no price.

The two rates are checked once an arm has ``min_observations_for_rates`` observations of the metric.

* **Refused observations** (``ingestion``, informational: it passes) — observations this process refused at
  ingestion (NaN/inf, out of range), counted by
  ``routing_agent.stores.observations.observation.rejected_counts``; the report lists them among its warnings.
"""

from __future__ import annotations

__all__ = ["ValidityCheck", "run_checks", "store_loss_check"]

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.settings import EvaluationSettings
from routing_agent.stats import SrmResult, as_json, srm_test
from routing_agent.stores.observations.base import ObservationStore
from routing_agent.stores.observations.observation import Metric, rejected_counts


@dataclass(frozen=True)
class ValidityCheck:
    """One check: passed or not, the worst value seen and the threshold, in one sentence."""

    name: str  # srm | attrition | invalid_judge:<scorer> | unpriced | ingestion | store_loss
    passed: bool
    value: float | None
    threshold: float
    message: str
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "passed": self.passed,
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
            "detail": self.detail,
        }


def srm_check(spec: ExperimentSpec, counts: Mapping[str, int], settings: EvaluationSettings) -> ValidityCheck:
    """Units per variant against the configured weights."""
    names = [v.name for v in spec.variants]
    observed = {name: int(counts.get(name, 0)) for name in names}
    result: SrmResult = srm_test(
        observed,
        {v.name: v.weight or 0.0 for v in spec.variants},
        threshold=settings.srm_threshold,
        min_relative_deviation=settings.srm_min_relative_deviation,
    )
    total = sum(observed.values())
    shares = "no units yet"
    if total:
        shares = ", ".join(
            f"{n} {observed[n] / total:.1%} (configured {w:.0%})"
            for n, w in zip(names, spec.weights, strict=True)
        )
    if result.mismatch:
        message = (
            f"sample-ratio mismatch: {shares}; chi-square p = {result.p_value:.2g} "
            f"< {settings.srm_threshold:g}. Assignment, logging or filtering is broken: find the cause "
            "before reading any result"
        )
    else:
        message = f"split as configured: {shares} (SRM p = {result.p_value:.2g})"
    return ValidityCheck(
        "srm", not result.mismatch, result.p_value, settings.srm_threshold, message, as_json(result)
    )


def _rate_check(
    store: ObservationStore,
    experiment: str,
    metric: str,
    *,
    name: str,
    label: str,
    limit: float,
    settings: EvaluationSettings,
) -> ValidityCheck:
    aggregates = store.unit_aggregates(experiment, metric)
    rates = {v: a.total_x / a.n_obs for v, a in aggregates.items() if a.n_obs > 0}
    counted = {v: a.n_obs for v, a in aggregates.items()}
    checked = {v: r for v, r in rates.items() if counted[v] >= settings.min_observations_for_rates}
    worst = max(checked, key=lambda v: checked[v]) if checked else None
    value = checked[worst] if worst is not None else None
    passed = value is None or value <= limit
    per_arm = ", ".join(f"{v} {r:.1%} of {counted[v]:,}" for v, r in sorted(rates.items()))
    if not passed:
        message = f"{label} in {worst}: {value:.1%} > {limit:.0%} ({per_arm})"
    elif value is None:
        message = f"{label}: too few observations to check yet ({per_arm or 'none'})"
    else:
        message = f"{label}: at most {value:.1%} ≤ {limit:.0%} ({per_arm})"
    detail = {"rates": rates, "observations": counted, "metric": metric}
    return ValidityCheck(name, passed, value, limit, message, detail)


def ingestion_check(experiment: str) -> ValidityCheck | None:
    """Observations of ``experiment`` refused at ingestion in this process (None when there were none)."""
    refused = rejected_counts(experiment)
    total = sum(refused.values())
    if not total:
        return None
    reasons = ", ".join(f"{n:,} {reason.replace('_', '-')}" for reason, n in sorted(refused.items()))
    message = f"{total:,} observations refused at ingestion in this process ({reasons}): not in any figure"
    return ValidityCheck("ingestion", True, float(total), 0.0, message, {"refused": refused})


def store_loss_check(store: Any, experiment: str) -> ValidityCheck | None:
    """Failed when the assignment store recorded a loss of the experiment's data (eviction, FLUSHDB, a
    restart without persistence): units may have been re-randomized and observations lost, so no move is
    made on these figures (a guardrail rollback still is). None when no loss is recorded or the store cannot
    tell (no ``loss`` method)."""
    read = getattr(store, "loss", None)
    loss = read(experiment) if read is not None else None
    if loss is None:
        return None
    message = (
        f"the assignment store lost data ({loss.description}; noticed by {loss.detected_by}): every unit "
        "goes to control until `routing-agent recover`"
    )
    return ValidityCheck("store_loss", False, 1.0, 0.0, message, loss.to_json())


def run_checks(
    spec: ExperimentSpec,
    store: ObservationStore,
    counts: Mapping[str, int],
    settings: EvaluationSettings,
    metrics: set[str],
) -> list[ValidityCheck]:
    """SRM, invalid judge verdicts (one check per judge scorer seen) and unpriced calls."""
    checks = [srm_check(spec, counts, settings)]
    refused = ingestion_check(spec.id)
    if refused is not None:
        checks.append(refused)
    for metric in sorted(m for m in metrics if m.endswith(".invalid")):
        scorer = metric.removesuffix(".invalid")
        label = f"invalid judge verdicts of '{scorer}'"
        limit = settings.max_invalid_judge_rate
        checks.append(
            _rate_check(
                store, spec.id, metric, name=f"invalid_judge:{scorer}", label=label, limit=limit,
                settings=settings,
            )
        )  # fmt: skip
    if Metric.UNPRICED.value in metrics:
        limit = settings.max_unpriced_rate
        check = _rate_check(
            store, spec.id, Metric.UNPRICED.value, name="unpriced", label="unpriced calls", limit=limit,
            settings=settings,
        )  # fmt: skip
        checks.append(check if check.passed else _unpriced_cause(spec, store, check))
    return checks


def _unpriced_cause(spec: ExperimentSpec, store: ObservationStore, check: ValidityCheck) -> ValidityCheck:
    """The failed unpriced check, naming the worst arm's model and why its calls were not priced."""
    rates: dict[str, float] = check.detail["rates"]
    worst = max(rates, key=lambda v: rates[v])
    model = next((v.model for v in spec.variants if v.name == worst), worst)
    missing = {v: a.n_obs for v, a in store.unit_aggregates(spec.id, "usage_missing").items()}
    if missing.get(worst):
        cause = (
            f"cause: {missing[worst]:,} calls of {model} reported no token usage (a streamed call to an "
            "OpenAI-compatible endpoint without stream_usage: set params: {stream_usage: true})"
        )
    else:
        cause = f"cause: no price for {model} (add it under prices: in the YAML)"
    detail = {**check.detail, "usage_missing": missing, "model": model}
    return ValidityCheck(check.name, False, check.value, check.threshold, f"{check.message}; {cause}", detail)
