"""Every assignment store behaves the same: memory, SQLite and a real Redis run each test below."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from routing_agent.assignment.hashing import bucket_ranges, choose_variation, hash_v2
from routing_agent.config.spec import ExperimentStatus
from routing_agent.errors import StateTransitionError, StoreUnavailable
from routing_agent.stores import AssignmentStore, Capability
from tests.stores.harness import BACKENDS, Harness, requires

FAMILY = "assignments"

TRICKY_IDS = [
    "",
    "plain",
    "a:b",
    "a:b:c",
    ":",
    "::",
    "a}b",
    "{a}",
    "}{",
    "{",
    "}",
    "a:u:b",
    "u:a",
    "h:" + "0" * 64,
    "café",
    "Ω≈ç√∫",
    "日本語のセッション",
    "emoji-😀-🎉",
    "tab\tnew\nline",
    "nul\x00byte",
    "space ",
    " space",
    "x" * 256,
    "x" * 257,
]


def test_declared_capabilities_match_the_store(harness: Harness) -> None:
    assert isinstance(harness.store, AssignmentStore)
    assert harness.store.capabilities == BACKENDS[harness.name].capabilities[FAMILY] == harness.capabilities


def test_first_writer_wins_and_later_offers_are_ignored(harness: Harness) -> None:
    store = harness.store
    assert store.get("exp", "u1") is None
    assert store.get_or_set("exp", "u1", "control") == ("control", True)
    assert store.get_or_set("exp", "u1", "treatment") == ("control", False)
    assert store.get_or_set("exp", "u1", "control") == ("control", False)
    assert store.get("exp", "u1") == "control"
    assert store.counts("exp") == {"control": 1}


def test_sticky_when_weights_change(harness: Harness) -> None:
    store = harness.store
    names = ["control", "treatment"]
    units = [f"session-{i}" for i in range(300)]
    before = bucket_ranges([0.5, 0.5])
    after = bucket_ranges([0.1, 0.9])  # the operator moved 40 % of traffic to treatment
    first = {}
    for u in units:
        held, created = store.get_or_set("exp", u, names[choose_variation(hash_v2("exp", u), before)])
        assert created
        first[u] = held
    moved = 0
    for u in units:
        offered = names[choose_variation(hash_v2("exp", u), after)]
        moved += offered != first[u]
        assert store.get_or_set("exp", u, offered) == (first[u], False)
        assert store.get("exp", u) == first[u]
    assert moved > 60  # the new weights really offered other variants to many units
    counts = store.counts("exp")
    assert sum(counts.values()) == 300
    assert counts == {n: sum(1 for v in first.values() if v == n) for n in names}


def test_counts_increment_only_on_creation(harness: Harness) -> None:
    store = harness.store
    assert store.counts("exp") == {}
    for i in range(60):
        store.get_or_set("exp", f"u{i}", ["a", "b", "c"][i % 3])
    for i in range(60):
        store.get_or_set("exp", f"u{i}", "a")
    assert store.counts("exp") == {"a": 20, "b": 20, "c": 20}


TTL_S = 2.0
"""Reads that must see an unexpired assignment run within this of its write: slack for a loaded machine."""


@requires(Capability.TTL)
def test_ttl_expiry_reads_as_absent_and_the_next_writer_replaces_it(harness: Harness) -> None:
    store = harness.store
    assert store.get_or_set("exp", "short", "control", ttl_s=TTL_S) == ("control", True)
    assert store.get_or_set("exp", "forever", "control") == ("control", True)
    assert store.get("exp", "short") == "control"
    assert store.get_or_set("exp", "short", "treatment", ttl_s=TTL_S) == ("control", False)
    time.sleep(TTL_S + 0.2)
    assert store.get("exp", "short") is None
    assert store.get("exp", "forever") == "control"
    assert store.get_or_set("exp", "short", "treatment", ttl_s=60) == ("treatment", True)
    assert store.get_or_set("exp", "short", "control") == ("treatment", False)
    # counts record creations: the expired assignment and its replacement both counted
    assert store.counts("exp") == {"control": 2, "treatment": 1}


def test_bad_arguments_are_rejected(harness: Harness) -> None:
    store = harness.store
    with pytest.raises(ValueError, match="ttl_s"):
        store.get_or_set("exp", "u", "a", ttl_s=0)
    with pytest.raises(ValueError, match="ttl_s"):
        store.get_or_set("exp", "u", "a", ttl_s=-1)
    with pytest.raises(ValueError, match="variant"):
        store.get_or_set("exp", "u", "")
    with pytest.raises(ValueError, match="experiment"):
        store.get_or_set("", "u", "a")
    assert store.get("exp", "u") is None


def test_unicode_separator_and_long_unit_ids_never_collide(harness: Harness) -> None:
    store = harness.store
    long_a = "é" * 5000 + "a"  # ~10 kB of UTF-8
    long_b = "é" * 5000 + "b"  # differs only in the last character
    ids = [*TRICKY_IDS, long_a, long_b, "y" * 10_240]
    assert len(set(ids)) == len(ids)
    for i, unit in enumerate(ids):
        assert store.get_or_set("exp", unit, f"v{i}") == (f"v{i}", True), repr(unit[:40])
    for i, unit in enumerate(ids):
        assert store.get("exp", unit) == f"v{i}", repr(unit[:40])
        assert store.get_or_set("exp", unit, "other") == (f"v{i}", False)
    assert sum(store.counts("exp").values()) == len(ids)


def test_experiments_are_isolated(harness: Harness) -> None:
    store = harness.store
    experiments = ["exp", "exp2", "a:b", "a", "a}b", "{a}", "exp:a", "Ünïcode-exp", "x" * 300]
    for i, exp in enumerate(experiments):
        store.get_or_set(exp, "b", f"v{i}")
        store.get_or_set(exp, "u:b", f"w{i}")
        store.set_state(exp, ExperimentStatus.PAUSED, actor=f"actor{i}")
    for i, exp in enumerate(experiments):
        assert store.get(exp, "b") == f"v{i}"
        assert store.get(exp, "u:b") == f"w{i}"
        assert store.counts(exp) == {f"v{i}": 1, f"w{i}": 1}
        state = store.get_state(exp)
        assert state is not None and state.actor == f"actor{i}" and state.version == 1
        assert [s.actor for s in store.history(exp)] == [f"actor{i}"]
    assert store.get("never", "b") is None
    assert store.counts("never") == {}


def test_namespaces_are_isolated(harness: Harness) -> None:
    other = harness.open_sibling()
    harness.store.get_or_set("exp", "u", "control")
    harness.store.set_state("exp", ExperimentStatus.RUNNING, actor="a")
    assert other.get("exp", "u") is None
    assert other.counts("exp") == {}
    assert other.get_state("exp") is None
    assert other.get_or_set("exp", "u", "treatment") == ("treatment", True)
    assert harness.store.get("exp", "u") == "control"


@requires(Capability.MULTI_PROCESS)
def test_a_second_handle_sees_the_same_data(harness: Harness) -> None:
    second = harness.open_again()
    assert harness.store.get_or_set("exp", "u", "control") == ("control", True)
    assert second.get_or_set("exp", "u", "treatment") == ("control", False)
    second.set_state("exp", ExperimentStatus.ROLLED_BACK, actor="watch", reason="guardrail")
    state = harness.store.get_state("exp")
    assert state is not None and state.status is ExperimentStatus.ROLLED_BACK and state.reason == "guardrail"
    assert harness.store.counts("exp") == second.counts("exp") == {"control": 1}


def test_state_set_get_and_history(harness: Harness) -> None:
    store = harness.store
    assert store.get_state("exp") is None
    assert store.history("exp") == []
    s1 = store.set_state("exp", ExperimentStatus.RUNNING, actor="config")
    assert (s1.experiment, s1.status, s1.version, s1.winner, s1.actor) == (
        "exp",
        ExperimentStatus.RUNNING,
        1,
        None,
        "config",
    )
    evidence = {"p_value": 0.0123456789, "ci": [-0.1, 0.25], "n": {"control": 500}, "empty": [], "note": "ü"}
    s2 = store.set_state(
        "exp",
        ExperimentStatus.SHIPPED,
        actor="alice",
        reason="treatment wins",
        winner="treatment",
        evidence=evidence,
    )
    assert s2.version == 2 and s2.winner == "treatment" and s2.evidence == evidence
    assert s2.changed_at >= s1.changed_at > 0
    assert store.get_state("exp") == s2
    history = store.history("exp")
    assert history == [s1, s2]


def test_shipping_needs_a_winner(harness: Harness) -> None:
    with pytest.raises(StateTransitionError, match="winner"):
        harness.store.set_state("exp", ExperimentStatus.SHIPPED, actor="alice")
    assert harness.store.get_state("exp") is None


def test_compare_and_set_conflicts_change_nothing(harness: Harness) -> None:
    store = harness.store
    s1 = store.set_state("exp", ExperimentStatus.RUNNING, actor="config", expected_version=0)
    assert s1.version == 1
    with pytest.raises(StateTransitionError, match="expected version 0, found 1"):
        store.set_state("exp", ExperimentStatus.PAUSED, actor="bob", expected_version=0)
    with pytest.raises(StateTransitionError):
        store.set_state("exp", ExperimentStatus.PAUSED, actor="bob", expected_version=7)
    assert store.get_state("exp") == s1
    assert store.history("exp") == [s1]
    s2 = store.set_state("exp", ExperimentStatus.PAUSED, actor="bob", expected_version=1)
    assert s2.version == 2 and store.history("exp") == [s1, s2]


def test_concurrent_compare_and_set_has_exactly_one_winner_per_version(harness: Harness) -> None:
    store = harness.store
    store.set_state("exp", ExperimentStatus.RUNNING, actor="config")
    barrier = threading.Barrier(6)
    wins: list[str] = []
    conflicts: list[str] = []
    lock = threading.Lock()

    def contender(name: str) -> None:
        barrier.wait()
        try:
            store.set_state("exp", ExperimentStatus.ROLLED_BACK, actor=name, expected_version=1)
        except StateTransitionError:
            with lock:
                conflicts.append(name)
        else:
            with lock:
                wins.append(name)

    threads = [threading.Thread(target=contender, args=(f"t{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(conflicts) == 5
    state = store.get_state("exp")
    assert state is not None and state.version == 2 and state.actor == wins[0]
    assert [s.version for s in store.history("exp")] == [1, 2]


def test_threads_racing_on_units_get_one_variant_each(harness: Harness) -> None:
    store = harness.store
    units = [f"u{i}" for i in range(200)]
    seen: dict[str, list[tuple[str, bool]]] = {u: [] for u in units}
    barrier = threading.Barrier(4)
    lock = threading.Lock()

    def worker(variant: str) -> None:
        barrier.wait()
        for u in units:
            result = store.get_or_set("exp", u, variant)
            with lock:
                seen[u].append(result)

    threads = [threading.Thread(target=worker, args=(f"v{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for u, results in seen.items():
        assert len({held for held, _ in results}) == 1, u
        assert sum(created for _, created in results) == 1, u
    assert sum(store.counts("exp").values()) == 200


async def test_async_twins_equal_sync(harness: Harness) -> None:
    store = harness.store
    try:
        assert await store.aget("exp", "u1") is None
        assert await store.aget_or_set("exp", "u1", "control") == ("control", True)
        assert store.get("exp", "u1") == "control"
        assert await store.aget_or_set("exp", "u1", "treatment") == ("control", False)
        store.get_or_set("exp", "u2", "treatment")
        assert await store.aget("exp", "u2") == store.get("exp", "u2") == "treatment"
        assert await store.aget_state("exp") is None
        store.set_state("exp", ExperimentStatus.PAUSED, actor="a", evidence={"k": [1, 2]})
        assert await store.aget_state("exp") == store.get_state("exp")
        results = await asyncio.gather(*(store.aget_or_set("exp", f"c{i}", f"v{i % 2}") for i in range(50)))
        assert all(created for _, created in results)
        assert [store.get("exp", f"c{i}") for i in range(50)] == [held for held, _ in results]
        assert store.counts("exp") == {"control": 1, "treatment": 1, "v0": 25, "v1": 25}
        with pytest.raises(ValueError):
            await store.aget_or_set("exp", "u3", "a", ttl_s=0)
    finally:
        await harness.aclose()


@requires(Capability.TTL)
async def test_async_ttl(harness: Harness) -> None:
    store = harness.store
    try:
        assert await store.aget_or_set("exp", "u", "a", ttl_s=0.25) == ("a", True)
        await asyncio.sleep(0.4)
        assert await store.aget("exp", "u") is None
        assert await store.aget_or_set("exp", "u", "b") == ("b", True)
    finally:
        await harness.aclose()


def test_closed_store_is_unavailable(harness: Harness) -> None:
    store = harness.open_sibling()
    store.get_or_set("exp", "u", "a")
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreUnavailable):
        store.get("exp", "u")
    with pytest.raises(StoreUnavailable):
        store.get_or_set("exp", "u2", "a")
