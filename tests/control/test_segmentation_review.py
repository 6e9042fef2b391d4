"""From the evaluator's segmentation decision to a segment-level ship, through ``watch`` and a review.

The candidate wins overall but is significantly worse on ``tier=paid``: the decision carries
``ship_segment = {tier: [free]}``, ``watch`` queues it for a person (even without ``review: required``), the
approval ships the candidate to free-tier units only, and a routing node over the same Redis follows.
"""

from __future__ import annotations

from routing_agent.assignment.types import Reason
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.control.review import ReviewQueue
from routing_agent.control.ticks import TickAction
from routing_agent.control.watch import Watcher, WatchSettings
from routing_agent.evaluation import DecisionKind
from routing_agent.evaluation.watching import WatchEvaluator
from routing_agent.graph import RoutingNode
from routing_agent.stores.assignments.redis import RedisStore
from routing_agent.stores.observations.memory import MemoryObservationStore
from tests.evaluation.support import EXP, arm, make_spec


def test_segmentation_is_reviewed_and_ships_the_segment_only(redis_url: str, redis_prefix: str) -> None:
    spec = make_spec(segments=["tier"])
    tiers = {"tier": ["free", "paid"]}
    obs = MemoryObservationStore()
    obs.add(
        arm("control", 8000, seed=1, rate=0.87, segments=tiers, segment_rates={"free": 0.80, "paid": 0.94})
    )
    obs.add(
        arm("candidate", 8000, seed=2, rate=0.9, segments=tiers, segment_rates={"free": 0.93, "paid": 0.89})
    )
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    tick = Watcher(spec, store, WatchEvaluator(obs), WatchSettings(every_s=60)).tick()
    assert tick.decision is not None and tick.decision.kind is DecisionKind.SEGMENTATION
    assert tick.decision.evidence["ship_segment"] == {"tier": ["free"]}
    assert tick.action is TickAction.REVIEW_REQUESTED and tick.review is not None, tick.line()
    assert "for tier=free only" in tick.message

    outcome = ReviewQueue(store).approve(tick.review.id, reviewer="erin")
    assert outcome.change is not None and outcome.change.applied
    node = RoutingNode(ExperimentsConfig(experiments=(spec,)), store=store, state_refresh_s=0.0)
    for tier, variant in (("free", "candidate"), ("paid", "control"), ("free", "candidate")):
        record = node.invoke({"session_id": f"u-{tier}", "tier": tier})["routing"][EXP]
        assert (record["variant"], record["reason"]) == (variant, Reason.SHIPPED.value)
    node.close()
