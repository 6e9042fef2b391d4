"""Targeting rules and segment-level ship in a real LangGraph graph over a real Redis store.

The graph is the worked example's shape: a routing node, a classifier that writes the ticket's category into
the state (so the segment is only known *after* routing), then a drafter whose model is routed. A ship
limited to ``category=easy`` sends easy tickets to the cheap candidate and keeps complex ones on the strong
control — on every worker, decided when the drafter's model is resolved.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from routing_agent import record_outcome
from routing_agent.assignment.hashing import bucket_ranges, choose_variation, hash_v2
from routing_agent.assignment.types import Reason
from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec
from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.review import ReviewQueue
from routing_agent.control.rollout import Rollout
from routing_agent.evaluation.decision import Decision, DecisionKind
from routing_agent.graph import RoutingNode, RoutingState, routed_model
from routing_agent.graph import metadata as meta
from routing_agent.providers.catalog import ModelCatalog
from routing_agent.stores.assignments.redis import RedisStore
from routing_agent.stores.observations.memory import MemoryObservationStore

EXP = "support-haiku"


class State(RoutingState, total=False):
    session_id: str
    ticket: str
    tier: str
    category: str
    seen: Annotated[list[dict[str, Any]], operator.add]


def spec(**extra: Any) -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        {
            "id": EXP,
            "variants": [
                {"name": "sonnet", "model": "echo:strong", "control": True},
                {"name": "haiku", "model": "echo:cheap"},
            ],
            "scope": ["drafter"],
            "segments": ["category"],
            **extra,
        }
    )


def _models() -> ModelCatalog:
    models = ModelCatalog()
    models.register("echo", lambda name, params: FakeListChatModel(responses=[name]))
    return models


def build(config: ExperimentsConfig, store: RedisStore) -> Any:
    models = _models()

    def classifier(state: State) -> dict[str, Any]:
        return {"category": "easy" if "password" in state["ticket"] else "complex"}

    def drafter(state: State, config: RunnableConfig) -> dict[str, Any]:
        llm = routed_model(state, config, models=models)
        md = llm.metadata or {}
        return {"seen": [{"answer": llm.invoke("hi").content, "variant": md.get(meta.VARIANT),
                          "reason": md.get(meta.REASON)}]}  # fmt: skip

    g = StateGraph(State)
    g.add_node("route", RoutingNode(config, store=store, state_refresh_s=0.0))
    g.add_node("classifier", classifier)
    g.add_node("drafter", drafter)
    g.add_edge(START, "route")
    g.add_edge("route", "classifier")
    g.add_edge("classifier", "drafter")
    g.add_edge("drafter", END)
    return g.compile()


def _tickets(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"session_id": f"t{i}", "ticket": "reset my password" if i % 2 else "refund dispute", "seen": []}
        for i in range(start, start + n)
    ]


def test_a_segment_ship_moves_easy_tickets_only_on_every_worker(redis_url: str, redis_prefix: str) -> None:
    config = ExperimentsConfig(experiments=(spec(),))
    stores = [RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0) for _ in range(3)]
    workers = [build(config, s) for s in stores[:2]]
    before = [workers[i % 2].invoke(t) for i, t in enumerate(_tickets(40))]
    assert {r["seen"][0]["answer"] for r in before} == {"strong", "cheap"}  # randomized while running

    change = Rollout(stores[2], config.get(EXP)).ship(
        "haiku", actor="alice", reason="cheaper on easy tickets", segment={"category": "easy"}
    )
    assert change.applied and change.state.status is S.SHIPPED
    after = [workers[i % 2].invoke(t) for i, t in enumerate(_tickets(40, start=1000))]
    after += [workers[i % 2].invoke(t) for i, t in enumerate(_tickets(40))]  # returning sessions too
    for result in after:
        (seen,) = result["seen"]
        expected = "cheap" if result["category"] == "easy" else "strong"
        assert seen["answer"] == expected, result
        assert seen["reason"] == Reason.SHIPPED.value
        assert seen["variant"] == ("haiku" if expected == "cheap" else "sonnet")
    (entry,) = stores[2].history(EXP)
    assert entry.actor == "alice" and entry.evidence["ship_segment"] == {"category": ["easy"]}
    # the same ship again is a no-op; a ship to everyone is a different change (refused from shipped)
    assert (
        not Rollout(stores[2], config.get(EXP))
        .ship("haiku", actor="bob", reason="again", segment={"category": "easy"})
        .applied
    )
    for s in stores:
        s.close()


def test_approving_a_segmentation_review_ships_the_segment_only(redis_url: str, redis_prefix: str) -> None:
    config = ExperimentsConfig(experiments=(spec(review="required"),))
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    graph = build(config, store)
    decision = Decision(
        EXP, DecisionKind.SEGMENTATION, "haiku 4.2x cheaper, worse on complex", winner="haiku",
        evidence={"segments_worse": [{"key": "category", "value": "complex"}],
                  "ship_segment": {"category": ["easy"]}},
    )  # fmt: skip
    queue = ReviewQueue(store, config=config)
    item, created = queue.request(config.get(EXP), decision, actor="watch@test")
    assert created
    outcome = queue.approve(item.id, reviewer="carol", note="easy only")
    assert outcome.change is not None and outcome.change.applied
    state = store.get_state(EXP)
    assert state is not None and state.winner == "haiku"
    assert state.evidence["ship_segment"] == {"category": ["easy"]} and state.actor == "carol"
    answers = {r["category"]: r["seen"][0]["answer"] for r in (graph.invoke(t) for t in _tickets(6))}
    assert answers == {"easy": "cheap", "complex": "strong"}
    store.close()


def test_targeting_rules_and_untargeted_units_hash_as_growthbook(redis_url: str, redis_prefix: str) -> None:
    rules = [
        {"when": {"tier": "free"}, "enrol": False},
        {"when": {"tier": ["vip", "enterprise"]}, "variant": "haiku"},
    ]
    targeted = spec(targeting=rules)
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    node = RoutingNode(ExperimentsConfig(experiments=(targeted,)), store=store)
    ranges = bucket_ranges(targeted.weights, targeted.coverage)
    for i in range(60):
        tier = ("free", "vip", "pro")[i % 3]
        record = node.invoke({"session_id": f"u{i}", "tier": tier})["routing"][EXP]
        if tier == "free":
            assert (record["variant"], record["reason"]) == (None, Reason.EXCLUDED.value)
        elif tier == "vip":
            assert (record["variant"], record["reason"]) == ("haiku", Reason.TARGETED.value)
        else:  # untargeted: exactly GrowthBook's v2 hash of (seed, unit)
            index = choose_variation(hash_v2(targeted.seed, f"u{i}"), ranges)
            assert record["variant"] == targeted.variants[index].name
            assert record["reason"] == Reason.HASHED.value
    # a targeted unit is never observed (not randomized), a hashed one is
    obs = MemoryObservationStore()
    vip = {"session_id": "u1", "tier": "vip"}
    vip.update(node.invoke(vip))
    assert not record_outcome(EXP, "resolved", 1.0, vip, observations=obs)
    pro = {"session_id": "u2", "tier": "pro"}
    pro.update(node.invoke(pro))
    pro["category"] = "easy"  # learned after routing (a classifier's output)
    assert record_outcome(EXP, "resolved", 1.0, pro, observations=obs)
    (written,) = obs.unit_values(EXP, "resolved", segment=("category", "easy"))
    assert written.unit_id == "u2"
    node.close()


def test_targeting_attributes_come_from_the_run_context_too(redis_url: str, redis_prefix: str) -> None:
    targeted = spec(targeting=[{"when": {"tier": "free"}, "enrol": False}])
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    node = RoutingNode(ExperimentsConfig(experiments=(targeted,)), store=store)
    record = node.invoke({"session_id": "c1"}, {"configurable": {"tier": "free"}})["routing"][EXP]
    assert record["reason"] == Reason.EXCLUDED.value
    node.close()
