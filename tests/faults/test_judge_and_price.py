"""Scoring and pricing faults inside real graphs: a judge endpoint that hangs, refuses connections or answers
garbage (an inline ``ScoringNode`` in the graph, a real ``ChatOpenAI`` client for the network cases), and a
model without a price. The graph always completes; the judge holds it at most ``timeout_s`` per attempt;
verdicts are counted invalid, never invented; unpriced calls are counted, never priced at 0, and the
evaluator refuses to trust the cost comparison."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from routing_agent.config.loader import load_experiments_from_string
from routing_agent.providers.simulated import set_time_scale
from routing_agent.scoring.base import Status
from routing_agent.scoring.judge import LikertJudge, LikertOptions
from routing_agent.scoring.node import ScoringNode
from routing_agent.stores.assignments.memory import MemoryStore
from routing_agent.stores.observations.memory import MemoryObservationStore
from routing_agent.telemetry import RoutingTelemetry
from tests.faults.support import SilentServer
from tests.scoring import rag_graph as rag
from tests.support.redis_server import free_port

TIMEOUT_S = 0.5


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    set_time_scale(0.0)
    yield from rag.registered(rag.items())


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def judge_options(kind: str, silent: SilentServer) -> dict[str, Any]:
    if kind == "garbage":
        return {"judge_model": "simjudge:garbage"}
    base = silent.url if kind == "hanging" else f"http://127.0.0.1:{free_port()}"
    return {
        "judge_model": "openai:gpt-4o-mini",
        "judge_params": {"base_url": base + "/v1", "max_retries": 0},
        "timeout_s": TIMEOUT_S,
    }


@pytest.mark.parametrize(
    ("kind", "why"), [("hanging", "did not answer"), ("refused", "Connection"), ("garbage", "")]
)
def test_a_failing_judge_inline_never_breaks_or_stalls_the_graph(
    kind: str, why: str, silent: SilentServer, caplog: pytest.LogCaptureFixture
) -> None:
    scorer = {
        "name": "answer_quality",
        "type": "judge_likert",
        "agent": "answerer",
        "reference_field": "reference.answer",
        "options": judge_options(kind, silent),
    }
    config = rag.config("simulated:fast-cheap", [scorer])
    sink = MemoryObservationStore()
    node = ScoringNode(config.experiments[0], agent="answerer", sink=sink, state_key="scores")
    graph = rag.build(config, MemoryStore(), extra=[("score_answerer", node)])
    assert node.entries[0][1].llm is not None  # build the client first (importing langchain-openai is slow)
    rows = rag.items()[:4]
    with caplog.at_level(logging.WARNING, logger="routing_agent"):
        for i, row in enumerate(rows):
            started = time.perf_counter()
            final = graph.invoke(rag.session(row, f"s{i}"))
            elapsed = time.perf_counter() - started
            assert final["answerer"]  # the user's answer is there
            assert final["scores"]["answer_quality"] is None  # no verdict invented
            assert elapsed < 2 * TIMEOUT_S + 5.0  # two attempts (call + one retry) at most
    assert node.stats()["answer_quality"]["invalid"] == len(rows)
    invalid = list(sink.observations("rag", "answer_quality.invalid"))
    assert len(invalid) == len(rows) and not list(sink.observations("rag", "answer_quality"))
    if why:
        warnings = [
            r.getMessage() for r in caplog.records if "judge 'answer_quality' call failed" in r.getMessage()
        ]
        assert len(warnings) == 1 and why in warnings[0]
    if kind == "hanging":
        assert silent.connections >= 1  # the judge really tried the endpoint


async def test_an_async_judge_call_is_cancelled_at_its_timeout(silent: SilentServer) -> None:
    options = LikertOptions(
        judge_model="openai:gpt-4o-mini",
        judge_params={"base_url": silent.url + "/v1", "max_retries": 0, "timeout": 60},
        timeout_s=TIMEOUT_S,
        retries=0,
    )
    judge = LikertJudge("quality", options)
    assert judge.llm is not None  # build the client first (importing langchain-openai takes seconds)
    row = rag.items()[0]
    sample = rag_sample(row)
    started = time.perf_counter()
    scores = await judge.ascore_batch([sample, sample, sample])
    assert time.perf_counter() - started < TIMEOUT_S + 5.0  # concurrently, each cut at its timeout
    assert [s.status for s in scores] == [Status.INVALID] * 3
    assert judge.stats()["errors"] == 3


def rag_sample(row: dict[str, Any]) -> Any:
    from routing_agent.scoring.base import Sample

    return Sample(output="An answer.", reference=row["reference"]["answer"], input=row["question"],
                  experiment="rag", variant="control", unit_id="s1")  # fmt: skip


UNPRICED = """\
simulated_profiles:
  no-price:
    extends: fast-cheap
    price: null
default_model: {model: "simulated:strong-expensive"}
experiments:
  - id: support-unpriced
    unit: session
    scope: [classifier, drafter, resolver]
    variants:
      - {name: control, model: "simulated:strong-expensive", control: true}
      - {name: candidate, model: "simulated:no-price"}
    primary_metric: {name: resolved, kind: binary, mde: 0.05, baseline: 0.85}
    guardrails:
      - {metric: cost_usd, max_ratio_to_control: 1.0}
"""


def test_a_model_without_a_price_is_counted_unpriced_never_free() -> None:
    from routing_agent.evaluation.decision import DecisionKind
    from routing_agent.evaluation.evaluator import evaluate
    from routing_agent.workflows import get_workflow

    config = load_experiments_from_string(UNPRICED)
    workflow = get_workflow("support")
    store, obs = MemoryStore(), MemoryObservationStore()
    telemetry = RoutingTelemetry(observations=obs, config=config)
    graph = workflow.build(config, store)
    items = workflow.items()
    for i in range(120):
        graph.invoke(workflow.session_input(items[i % len(items)], f"s{i}"), {"callbacks": [telemetry]})
    assert telemetry.flush(10)
    calls = {v: a.n_obs for v, a in obs.unit_aggregates("support-unpriced", "calls").items()}
    unpriced = obs.unit_aggregates("support-unpriced", "unpriced")
    assert unpriced["candidate"].sum_x == calls["candidate"] > 0  # every candidate call counted unpriced
    assert unpriced["control"].sum_x == 0
    cost = obs.unit_aggregates("support-unpriced", "cost_usd")
    assert set(cost) == {"control"}  # no cost recorded for the candidate: not a silent 0
    result = evaluate(config.experiments[0], observations=obs, assignments=store)
    [check] = [c for c in result.checks if c.name == "unpriced"]
    assert not check.passed and "candidate" in check.message
    assert result.decision.kind in {
        DecisionKind.INVALID,
        DecisionKind.KEEP_RUNNING,
    }  # never "ship, it's free"
