"""``evaluate``: read an experiment's observations the playbook's way; return the decision and its evidence.

The store does the aggregation where the data lives (SQL ``GROUP BY`` / Redis server-side sums), so an
evaluation costs a few small queries per metric whatever the traffic: per-variant sums over units for the
primary and secondary metrics, cost and every ``statistic: mean`` guardrail; a histogram and the per-unit
tail counts for every quantile guardrail; per-segment sums for the declared segments; the assignment
store's counts for the SRM check. ``routing_agent.stats`` does the math; this module only wires it.

Pass the previous ``Evaluation`` of the same experiment as ``history`` (``watch`` does) to chain the
always-valid tests across looks (running minimum p-value, running intersection of the sequences) and to
keep the looks for the report's over-time plots.
"""

from __future__ import annotations

__all__ = ["aevaluate", "evaluate"]

import asyncio
import os
import time
from contextlib import ExitStack
from typing import Any

from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.analysis import ArmInfo, Distribution, Evaluation, Look
from routing_agent.evaluation.attrition import Attrition, attrition_check, intention_to_treat
from routing_agent.evaluation.checks import run_checks, store_loss_check
from routing_agent.evaluation.cost import compare_costs
from routing_agent.evaluation.coverage import coverage_check
from routing_agent.evaluation.guardrails import check_guardrails
from routing_agent.evaluation.metrics import MetricData, load_covariate, load_metric
from routing_agent.evaluation.plan import SamplePlan, plan_primary
from routing_agent.evaluation.policy import DecisionInputs, decide
from routing_agent.evaluation.primary import MetricComparison, compare_metric
from routing_agent.evaluation.segments import analyze_primary_segments
from routing_agent.evaluation.settings import EvaluationSettings
from routing_agent.evaluation.timeline import replay_timeline
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.observations.aggregates import LogHistogram
from routing_agent.stores.observations.base import ObservationStore
from routing_agent.stores.observations.open import open_observation_store

StoreArg = ObservationStore | str | os.PathLike[str]

MAX_LOOKS = 720
"""Looks kept for the over-time plots; beyond it every other old look is dropped (recent ones stay dense)."""


def _keep(looks: tuple[Look, ...]) -> tuple[Look, ...]:
    if len(looks) <= MAX_LOOKS:
        return looks
    half = len(looks) // 2
    return (*looks[:half:2], *looks[half:])


def _traffic(obs: ObservationStore, experiment: str, units: int) -> float | None:
    """Units per day: units seen over the observations' time span (None under 10 seconds of data)."""
    span = obs.time_span(experiment)
    if span is None or units < 2:
        return None
    seconds = span[1] - span[0]
    return units / seconds * 86_400.0 if seconds >= 10.0 else None


def _primary(
    spec: ExperimentSpec,
    obs: ObservationStore,
    *,
    control: str,
    arms: list[str],
    traffic: float | None,
    settings: EvaluationSettings,
    previous: dict[str, Any],
    enrolled: tuple[dict[str, int], dict[str, int]],
) -> tuple[MetricData | None, SamplePlan | None, list[MetricComparison], Attrition | None]:
    m = spec.primary_metric
    if m is None:
        return None, None, [], None
    data = load_metric(
        obs, spec.id, m.name, agent=m.agent, denominator=m.denominator if m.kind == "ratio" else None,
        binary=m.kind == "binary",
    )  # fmt: skip
    data, attrition = intention_to_treat(
        m, data, assigned=enrolled[0], observed=enrolled[1], store=obs, experiment=spec.id
    )
    plan = plan_primary(spec, data, control=control, arms=arms, traffic_per_day=traffic)
    covariates = None
    if m.covariate is not None and m.test == "superiority":
        covariates = load_covariate(obs, spec.id, m.name, m.covariate, agent=m.agent)
    comparisons = compare_metric(
        m, data, role="primary", control=control, arms=arms, reached=plan.reached,
        correction=settings.correction, horizon_units=plan.horizon_units,
        early_stopping=settings.early_stopping, previous=previous, covariates=covariates,
    )  # fmt: skip
    return data, plan, comparisons, attrition


def evaluate(
    spec: ExperimentSpec,
    *,
    observations: StoreArg,
    assignments: AssignmentStore | str | None = None,
    now: float | None = None,
    traffic_per_day: float | None = None,
    settings: EvaluationSettings | None = None,
    history: Evaluation | None = None,
    timeline: bool = False,
) -> Evaluation:
    """Evaluate one experiment (see the module docstring).

    Args:
        spec: the experiment.
        observations: an observation store or its URL / path (opened and closed here).
        assignments: the assignment store (or URL): its per-variant counts feed the SRM check and its live
            state goes into the report. Without it the SRM check uses units observed per variant.
        now: the evaluation time (unix seconds; default: now).
        traffic_per_day: enrolled units per day, for "days remaining" (default: measured from the data).
        settings: thresholds (``EvaluationSettings``).
        history: the previous evaluation of this experiment (chains the always-valid tests).
        timeline: replay the primary metric over time for the report (stores with raw rows).
    """
    settings = settings or EvaluationSettings()
    started = time.perf_counter()
    at = time.time() if now is None else now
    with ExitStack() as stack:
        obs = open_observation_store(observations)
        if isinstance(observations, str | os.PathLike):
            stack.callback(obs.close)
        store: AssignmentStore | None
        if isinstance(assignments, str):
            from routing_agent.stores.assignments import open_control_store

            store = open_control_store(assignments)
            stack.callback(store.close)
        else:
            store = assignments
        return _evaluate(spec, obs, store, at, traffic_per_day, settings, history, timeline, started)


def _evaluate(  # noqa: PLR0917 (the public function's arguments, resolved)
    spec: ExperimentSpec,
    obs: ObservationStore,
    store: AssignmentStore | None,
    at: float,
    traffic_per_day: float | None,
    settings: EvaluationSettings,
    history: Evaluation | None,
    timeline: bool,
    started: float,
) -> Evaluation:
    control = spec.control.name
    arms = [v.name for v in spec.variants if not v.control]
    previous: dict[str, Any] = history.sequential_state if history is not None else {}
    state = store.get_state(spec.id) if store is not None else None
    assigned = store.counts(spec.id) if store is not None else None
    observed = obs.counts_by_variant(spec.id)
    counts = assigned if assigned is not None else observed
    traffic = traffic_per_day or _traffic(obs, spec.id, sum(counts.values()))
    checks = run_checks(spec, obs, counts, settings, obs.metrics(spec.id))
    lost = store_loss_check(store, spec.id) if store is not None else None
    if lost is not None:
        checks.append(lost)

    data, plan, primary, attrition = _primary(
        spec, obs, control=control, arms=arms, traffic=traffic, settings=settings, previous=previous,
        enrolled=(dict(assigned or {}), observed),
    )  # fmt: skip
    if attrition is not None:
        checks.append(attrition_check(attrition, control, settings))
        checks.append(coverage_check(attrition, settings))
    secondary: list[MetricComparison] = []
    for m in spec.secondary_metrics:
        sdata = load_metric(
            obs, spec.id, m.name, agent=m.agent, denominator=m.denominator if m.kind == "ratio" else None,
            binary=m.kind == "binary",
        )  # fmt: skip
        secondary += compare_metric(
            m, sdata, role="secondary", control=control, arms=arms, reached=True,
            correction=settings.secondary_correction, horizon_units=plan.horizon_units if plan else 5000,
            early_stopping=False, previous=previous,
        )  # fmt: skip
    horizon = plan.horizon_units if plan is not None else 5000
    histograms: dict[tuple[str, str | None], dict[str, LogHistogram]] = {}
    guardrails = check_guardrails(
        spec, obs, control=control, arms=arms, alpha=settings.guardrail_alpha, horizon_units=horizon,
        previous=previous, histograms=histograms, family=settings.guardrail_family,
    )  # fmt: skip
    cost_data = load_metric(obs, spec.id, settings.cost_metric)
    cost = compare_costs(
        cost_data,
        control=control,
        arms=arms,
        alpha=spec.primary_metric.alpha if spec.primary_metric else 0.05,
    )
    segments = analyze_primary_segments(spec, obs, data, control=control, arms=arms) if data else []
    decision = decide(
        DecisionInputs(
            spec=spec, control=control, arms=arms, checks=checks, guardrails=[g.result for g in guardrails],
            primary=primary, plan=plan, cost=cost, segments=segments, evaluated_at=at,
        )
    )  # fmt: skip
    latency = histograms.get((settings.latency_metric, None))
    if latency is None:
        latency = obs.histogram(spec.id, settings.latency_metric)
    metric = settings.latency_metric
    names = [v.name for v in spec.variants if v.name in latency]
    distributions = tuple(Distribution(metric, name, latency[name]) for name in names)
    first = next((c for c in primary if c.sequential is not None), None)
    look = Look(
        at=at,
        units={
            v.name: (data.n(v.name) if data is not None else observed.get(v.name, 0)) for v in spec.variants
        },
        p_value=first.sequential.p_value if first and first.sequential else None,
        effect=first.sequential.absolute_effect if first and first.sequential else None,
        ci_low=first.sequential.ci_low if first and first.sequential else None,
        ci_high=first.sequential.ci_high if first and first.sequential else None,
        guardrail_p_values={
            f"{g.result.bound} [{g.result.variant}]": g.result.p_value
            for g in guardrails
            if g.result.p_value is not None
        },
    )
    replayed: list[Look] = []
    if timeline and data is not None:
        replayed = replay_timeline(
            spec,
            obs,
            data,
            control=control,
            arms=arms,
            horizon_units=horizon,
            points=settings.timeline_points,
        )
    arms_info = tuple(
        ArmInfo(
            v.name,
            v.model,
            v.weight or 0.0,
            v.control,
            assigned.get(v.name, 0) if assigned is not None else None,
            observed.get(v.name, 0),
        )
        for v in spec.variants
    )
    return Evaluation(
        spec=spec, decision=decision, arms=arms_info, checks=tuple(checks), guardrails=tuple(guardrails),
        primary=tuple(primary), secondary=tuple(secondary), plan=plan, cost=cost, segments=tuple(segments),
        distributions=distributions, looks=_keep((*(history.looks if history else ()), look)),
        settings=settings,
        evaluated_at=at, duration_s=time.perf_counter() - started, state=state,
        stores={"observations": repr(obs), "assignments": repr(store) if store is not None else ""},
        timeline_source="replay" if replayed else "looks", timeline=tuple(replayed),
    )  # fmt: skip


async def aevaluate(
    spec: ExperimentSpec,
    *,
    observations: StoreArg,
    assignments: AssignmentStore | str | None = None,
    now: float | None = None,
    traffic_per_day: float | None = None,
    settings: EvaluationSettings | None = None,
    history: Evaluation | None = None,
    timeline: bool = False,
) -> Evaluation:
    """Async twin of ``evaluate``: the store queries run in a worker thread, off the event loop."""
    return await asyncio.to_thread(
        lambda: evaluate(
            spec,
            observations=observations,
            assignments=assignments,
            now=now,
            traffic_per_day=traffic_per_day,
            settings=settings,
            history=history,
            timeline=timeline,
        )
    )
