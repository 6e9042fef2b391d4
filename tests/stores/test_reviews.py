"""Review-store conformance: every backend (memory, SQLite, real Redis, real Redis Cluster) behaves the same.

The multi-process race on ``submit`` is in ``test_process_races.py``.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import redis

from routing_agent.errors import StoreUnavailable
from routing_agent.stores import Capability, ReviewStore
from routing_agent.stores.reviews import ReviewItem, ReviewStatus, open_review_store
from routing_agent.stores.reviews.base import decode_item, encode_item
from tests.stores.harness import Harness, requires
from tests.support.redis_server import free_port

FAMILY = "reviews"


def item(experiment: str = "exp", n: int = 1, winner: str = "candidate", at: float = 1000.0) -> ReviewItem:
    return ReviewItem(
        id=f"{experiment}:{n:08x}",
        experiment=experiment,
        winner=winner,
        decision={"kind": "ship", "summary": f"ship {winner}", "winner": winner, "p": 0.1 + 0.2},
        created_at=at + n,
        requested_by="watch@host:1",
        state_version=3,
    )


def test_declared_capabilities_match_the_store(harness: Harness) -> None:
    assert isinstance(harness.store, ReviewStore)
    assert harness.store.capabilities == harness.capabilities


def test_items_round_trip_exactly(harness: Harness) -> None:
    original = item()
    assert decode_item(encode_item(original)) == original
    stored, created = harness.store.submit(original)
    assert created and stored == original
    assert harness.store.get(original.id) == original  # floats, nested JSON and all
    assert harness.store.get("exp:ffffffff") is None
    assert harness.store.get("no-colon") is None


def test_one_pending_item_per_experiment(harness: Harness) -> None:
    first, created = harness.store.submit(item(n=1))
    assert created
    held, created = harness.store.submit(item(n=2, winner="control"))
    assert not created and held == first  # the pending one is returned, nothing written
    other, created = harness.store.submit(item("other", n=1))
    assert created
    assert [i.id for i in harness.store.items("exp")] == [first.id]
    assert [i.id for i in harness.store.items()] == [
        first.id,
        other.id,
    ]  # oldest first, all experiments


def test_deciding_frees_the_pending_slot(harness: Harness) -> None:
    first, _ = harness.store.submit(item(n=1))
    approved = first.decided(ReviewStatus.APPROVED, reviewer="alice", note="ok", at=2000.0)
    assert harness.store.replace(first, approved)
    assert harness.store.get(first.id) == approved
    _, created = harness.store.submit(item(n=2))
    assert created
    assert [i.status for i in harness.store.items("exp")] == [
        ReviewStatus.APPROVED,
        ReviewStatus.PENDING,
    ]
    # moving the first back to pending while the second holds the slot is refused
    assert not harness.store.replace(approved, first)
    assert harness.store.get(first.id) == approved


def test_replace_is_a_compare_and_set(harness: Harness) -> None:
    first, _ = harness.store.submit(item())
    by_alice = first.decided(ReviewStatus.APPROVED, reviewer="alice", note="", at=2000.0)
    by_bob = first.decided(ReviewStatus.REJECTED, reviewer="bob", note="no", at=2000.0)
    assert harness.store.replace(first, by_alice)
    assert not harness.store.replace(first, by_bob)  # bob decided on a stale read
    assert harness.store.get(first.id) == by_alice
    assert harness.store.replace(by_alice, first)  # undo (back to pending: slot free)
    assert harness.store.submit(item(n=9))[0] == first
    with pytest.raises(ValueError, match="keeps the item's id"):
        harness.store.replace(first, replace(first, id="exp:00000099"))


def test_threads_deciding_one_item_have_one_winner(harness: Harness) -> None:
    pending, _ = harness.store.submit(item())
    barrier = threading.Barrier(8)
    wins: list[str] = []

    def decide(i: int) -> None:
        verdict = ReviewStatus.APPROVED if i % 2 else ReviewStatus.REJECTED
        barrier.wait()
        if harness.store.replace(pending, pending.decided(verdict, reviewer=f"r{i}", note="", at=1.0)):
            wins.append(f"r{i}")

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert harness.store.get(pending.id).reviewer == wins[0]  # type: ignore[union-attr]


@requires(Capability.MULTI_PROCESS)
def test_another_handle_sees_the_queue(harness: Harness) -> None:
    other = harness.open_again()
    harness.store.submit(item())
    assert [i.id for i in other.items()] == [item().id]
    held, created = other.submit(item(n=2))
    assert not created and held == item()


def test_a_closed_store_raises_store_unavailable(harness: Harness) -> None:
    reviews = harness.open_sibling()  # opened by URL (or memory://): this store owns what it closes
    reviews.submit(item())
    reviews.close()
    reviews.close()  # idempotent
    with pytest.raises(StoreUnavailable, match="closed"):
        reviews.items()
    with pytest.raises(StoreUnavailable, match="closed"):
        reviews.submit(item(n=2))


def test_an_unreachable_redis_raises_store_unavailable() -> None:
    reviews = open_review_store(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)
    try:
        with pytest.raises(StoreUnavailable, match="Redis review store"):
            reviews.submit(item())
    finally:
        reviews.close()


def test_redis_review_keys_share_the_experiments_cluster_slot(redis_url: str, redis_prefix: str) -> None:
    from redis.crc import key_slot

    from routing_agent.stores.assignments.redis import RedisStore

    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    reviews = open_review_store(store)
    try:
        store.set_state("slot-exp", "running", actor="t")  # type: ignore[arg-type]
        reviews.submit(item("slot-exp"))
        client = redis.Redis.from_url(redis_url)
        keys = [k for k in client.scan_iter(match=f"{redis_prefix}:{{exp:slot-exp}}:*")]
        client.close()
        assert {k.rsplit(b":", 1)[1] for k in keys} >= {b"state", b"history", b"reviews", b"review_pending"}
        assert len({key_slot(k) for k in keys}) == 1
    finally:
        store.close()
