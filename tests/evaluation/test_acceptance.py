"""Acceptance (issue 8): the evaluator on the simulated support workflow — real LangGraph graphs, real stores
(SQLite files, a real Redis), the real telemetry handler producing every observation, the real ``watch`` loop.

* an as-good, 4× cheaper candidate ends ``no_difference`` (the cheaper one picked) or ``ship``; with
  ``review: required`` the proposal waits in the review queue — sessions keep splitting — until a person
  approves, and only then does everyone get the candidate; its HTML report opens in headless Chromium;
* a candidate with twice the p95 latency is rolled back by ``watch`` while two workers (two ``RoutingNode``
  instances sharing one Redis) serve the graph, and every later session of every worker gets control;
* a 55/45 split on a 50/50 config is ``invalid`` (sample-ratio mismatch).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from routing_agent.assignment.types import Reason
from routing_agent.config.loader import load_experiments
from routing_agent.config.spec import ExperimentStatus
from routing_agent.control import ReviewQueue, TickAction, Watcher, WatchSettings
from routing_agent.evaluation import DecisionKind, WatchEvaluator, evaluate
from routing_agent.graph.node import RoutingNode
from routing_agent.simulation import RunSettings, simulate
from routing_agent.stores.assignments import open_store
from routing_agent.stores.assignments.redis import RedisStore
from routing_agent.stores.observations import BufferedObservationWriter
from routing_agent.stores.observations.redis import RedisObservationStore
from routing_agent.telemetry.callbacks import RoutingTelemetry
from routing_agent.workflows.support_triage import WORKFLOW
from tests.support.browser import load_page
from tests.support.time_scale import instant_models

CONFIG = """\
version: 1
default_model: {{model: simulated:strong-expensive}}
simulated_profiles:
  cheap-twin:                       # the same model served 4x cheaper
    extends: strong-expensive
    price: {{input: 0.75, output: 3.75}}
experiments:
  - id: support-exp
    unit: session
    unit_key: session_id
    scope: [classifier, drafter, resolver]
    variants:
      - {{name: control, model: simulated:strong-expensive, weight: {control_weight}, control: true}}
      - {{name: candidate, model: "simulated:{candidate}", weight: {candidate_weight}}}
    primary_metric: {{name: resolved, kind: binary, mde: 0.08, margin: 0.08, baseline: 0.88}}
    guardrails:
      - {{metric: latency_s, statistic: p95, max_ratio_to_control: 1.3, min_sample: 100}}
      - {{metric: refusal, max_ratio_to_control: 2.0}}
      - {{metric: cost_usd, max_ratio_to_control: 1.0}}
    review: {review}
"""


def write_config(
    tmp_path: Path,
    *,
    candidate: str,
    weights: tuple[int, int] = (50, 50),
    review: str = "none",
    name: str = "c",
) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        CONFIG.format(
            candidate=candidate, control_weight=weights[0], candidate_weight=weights[1], review=review
        )
    )
    return path


def run_workflow(
    config: Path,
    store: str,
    observations: str,
    workdir: Path,
    sessions: int,
    seed: int = 0,
    run_id: str | None = None,
) -> Any:
    """The support workflow as the demo runs it: traced into ``observations``, then decided."""
    settings = RunSettings(
        sessions=sessions, workers=8, store=store, workdir=workdir, seed=seed, time_scale=0.0, progress=False,
        trace=True, observations=observations, decide=True, run_id=run_id,
    )  # fmt: skip
    return simulate(config, settings, workflow="support", console=Console(file=io.StringIO()))


def serve_sessions(config_path: Path, store: str, prefix: str, n: int) -> list[dict[str, Any]]:
    """``n`` more sessions through a fresh routing node and graph; their assignments."""
    config = load_experiments(config_path)
    node = RoutingNode(config, store=store, state_refresh_s=0.0)
    graph = WORKFLOW.build(config, routing=node)
    items = WORKFLOW.items()
    try:
        return [
            graph.invoke(WORKFLOW.session_input(items[i % len(items)], f"{prefix}-{i}"))["routing"][
                "support-exp"
            ]
            for i in range(n)
        ]
    finally:
        node.close()


def test_as_good_and_cheaper_candidate_ends_no_difference_and_ships_only_after_review(tmp_path: Path) -> None:
    """The session ids are fixed (``run_id``): with fresh ids this failed about 1 run in 20. The decision
    needs non-inferiority at margin 0.08 with 450 units per arm (expected z = 3.66 against 1.96: power
    0.955) and no false SRM alarm (p < 0.001 on 1 run in 1,000). On these ids z = 3.41 and SRM p = 1.0."""
    config = write_config(tmp_path, candidate="cheap-twin", review="required")
    # eight threads write; a loaded machine must not turn the 2 s default wait for the write slot into outages
    store = f"sqlite:///{tmp_path / 'assignments.sqlite3'}?busy_timeout_ms=60000"
    obs = f"sqlite:///{tmp_path / 'observations.sqlite3'}"
    ctx = run_workflow(config, store, obs, tmp_path / "run", sessions=900, run_id="accept")
    ev = ctx.evaluations["support-exp"]
    d = ev.decision
    assert d.kind in (DecisionKind.NO_DIFFERENCE, DecisionKind.SHIP), d.summary
    assert d.winner == "candidate", d.summary  # significantly cheaper per session
    assert ev.cost is not None and ev.cost.significantly_cheaper("candidate")
    ratio, _, _ = ev.cost.times_cheaper("candidate")  # type: ignore[misc]
    assert 3.0 < ratio < 5.0
    assert all(not g.breached for g in d.guardrails) and ev.plan is not None and ev.plan.reached
    assert all(c.passed for c in ev.checks)

    # the report the pipeline wrote opens in a real browser, charts and all
    page = load_page(ctx.settings.workdir / "report.html")
    assert page.console_errors == [] and len(page.figures) == 5

    # review: required — watch queues the proposal and changes nothing until a person approves
    spec = load_experiments(config).get("support-exp")
    assignments = open_store(store)
    try:
        watcher = Watcher(spec, assignments, WatchEvaluator(obs, assignments), WatchSettings(every_s=60))
        first = watcher.tick()
        assert first.action is TickAction.REVIEW_REQUESTED and first.review is not None, first.line()
        assert watcher.tick().action is TickAction.REVIEW_PENDING  # no second item
        state = assignments.get_state("support-exp")
        assert state is None or state.status is ExperimentStatus.RUNNING
        waiting = serve_sessions(config, store, "waiting", 40)
        assert {a["variant"] for a in waiting} == {"control", "candidate"}  # still split while it waits
        outcome = ReviewQueue(assignments).approve(
            first.review.id, reviewer="alice", note="as good, 4x cheaper"
        )
        assert outcome.change is not None and outcome.change.state.status is ExperimentStatus.SHIPPED
        assert outcome.change.state.winner == "candidate"
    finally:
        assignments.close()
    after = serve_sessions(config, store, "after", 20)
    assert {(a["variant"], a["reason"]) for a in after} == {("candidate", Reason.SHIPPED.value)}


def test_a_55_45_split_on_a_50_50_config_is_invalid(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """Traffic was routed 55/45 (a deployment with the wrong weights); the 50/50 config's evaluation is
    ``invalid``: a sample-ratio mismatch, read from the shared Redis assignment store.

    The session ids are fixed (``run_id``) so the split is the same on every run, and there are enough
    sessions that a 55/45 split is detected with power ~0.99 (expected chi-square z = 5.5 against the
    p < 0.001 threshold's 3.3): with fresh ids and 1,600 sessions the SRM test's power was only ~0.76.
    The store's client timeout is 10 s, not the routing path's 50 ms: on a loaded machine the 50 ms calls
    timed out, sessions were routed by hash meanwhile and the store held 733 of the 3,000 units.
    """
    url = f"{redis_url}?prefix={redis_prefix}&timeout=10"
    wrong = write_config(tmp_path, candidate="fast-cheap", weights=(55, 45), name="wrong")
    sessions = 3000
    run_workflow(wrong, url, url, tmp_path / "run", sessions=sessions, run_id="srm55")
    spec = load_experiments(write_config(tmp_path, candidate="fast-cheap")).get("support-exp")
    assignments = open_store(url)
    try:
        counts = assignments.counts("support-exp")
        ev = evaluate(spec, observations=url, assignments=assignments)
    finally:
        assignments.close()
    share, sd = counts["control"] / sum(counts.values()), (0.55 * 0.45 / sessions) ** 0.5
    assert sum(counts.values()) == sessions and abs(share - 0.55) < 4 * sd, counts
    d = ev.decision
    assert d.kind is DecisionKind.INVALID and "sample-ratio mismatch" in d.summary, d.summary
    (srm,) = [c for c in ev.checks if c.name == "srm"]
    assert not srm.passed and srm.value is not None and srm.value < 0.001


@dataclass(frozen=True)
class Served:
    worker: str
    session: str
    started: float
    variant: str
    reason: str


REFRESH_S = 0.2


@pytest.fixture
def fast_models() -> Iterator[None]:
    with instant_models():
        yield


def test_watch_rolls_back_a_slow_candidate_while_two_workers_serve(
    tmp_path: Path, redis_url: str, redis_prefix: str, fast_models: None
) -> None:
    config = load_experiments(write_config(tmp_path, candidate="slow-candidate"))
    spec = config.get("support-exp")
    stores = [RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0) for _ in range(3)]
    obs = RedisObservationStore.from_url(redis_url, prefix=redis_prefix)
    writers = [BufferedObservationWriter(obs) for _ in range(2)]
    nodes = [RoutingNode(config, store=s, state_refresh_s=REFRESH_S) for s in stores[:2]]
    graphs = [WORKFLOW.build(config, routing=n) for n in nodes]
    handlers = [RoutingTelemetry(observations=w, config=config) for w in writers]
    served: dict[str, list[Served]] = {"w1": [], "w2": []}
    stop = threading.Event()
    items = WORKFLOW.items()

    def serve(worker: str, graph: Any, handler: RoutingTelemetry) -> None:
        had_candidate: list[str] = []
        i = 0
        while not stop.is_set():
            revisit = i % 5 == 4 and had_candidate
            session = had_candidate[(i // 5) % len(had_candidate)] if revisit else f"{worker}-{i}"
            started = time.time()
            state = graph.invoke(
                WORKFLOW.session_input(items[i % len(items)], session), {"callbacks": [handler]}
            )
            routing = state["routing"]["support-exp"]
            served[worker].append(Served(worker, session, started, routing["variant"], routing["reason"]))
            if routing["variant"] == "candidate" and routing["reason"] == Reason.HASHED.value:
                had_candidate.append(session)
            i += 1

    threads = [
        threading.Thread(target=serve, args=(w, g, h), daemon=True)
        for w, g, h in zip(served, graphs, handlers, strict=True)
    ]
    ticks = []
    evaluator = WatchEvaluator(obs, stores[2])
    try:
        for t in threads:
            t.start()
        watcher = Watcher(
            spec,
            stores[2],
            evaluator,
            WatchSettings(every_s=3.0, every_n=100, poll_s=0.05),
            on_tick=ticks.append,
            observation_count=lambda: sum(obs.counts_by_variant("support-exp").values()),
        )
        last = watcher.run(stop=threading.Event(), max_ticks=60)
        rolled_back_at = time.time()
        deadline = time.time() + 90
        while (
            time.time() < deadline
            and min(sum(s.started > rolled_back_at + REFRESH_S + 0.1 for s in v) for v in served.values())
            < 25
        ):
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        for n in nodes:
            n.close()
        for w in writers:
            w.close(10.0)
        obs.close()

    assert last.action is TickAction.ROLLED_BACK and last.changed, [t.line() for t in ticks]
    decision = last.decision
    assert decision is not None and decision.kind is DecisionKind.ROLLBACK
    (p95,) = [g for g in decision.breached if g.metric == "latency_s"]
    assert p95.ratio is not None and p95.ratio > 1.6 and p95.ci_low is not None and p95.ci_low > 1.3
    assert p95.n_control >= 100 and p95.n_test >= 100  # min_sample honoured
    assert len(evaluator.last["support-exp"].looks) == len(ticks)  # every look chained
    (entry,) = stores[2].history("support-exp")
    assert entry.status is ExperimentStatus.ROLLED_BACK and entry.actor.startswith("watch@")
    assert entry.evidence["decision"]["kind"] == "rollback"
    for worker, sessions in served.items():
        before = [s for s in sessions if s.started < rolled_back_at]
        after = [s for s in sessions if s.started > rolled_back_at + REFRESH_S + 0.1]
        assert {s.variant for s in before} == {"control", "candidate"}, worker
        assert len(after) >= 25, worker
        assert {(s.variant, s.reason) for s in after} == {("control", Reason.ROLLED_BACK.value)}, worker
        had_candidate = {s.session for s in before if s.variant == "candidate"}
        assert had_candidate & {s.session for s in after}, worker  # returning candidate units: control too
    for s in stores:
        s.close()
