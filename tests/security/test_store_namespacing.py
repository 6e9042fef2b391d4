"""Store keys are namespaced under their prefix and escaped per experiment, so hostile ids can neither
collide nor leave their hash tag. Proven three ways: properties of the key builders over arbitrary ids
(hypothesis), isolation of hostile experiments on a real Redis, and a Redis ACL user allowed to touch only
``<prefix>:*`` keys that runs every store operation (Redis refuses any other key with NOPERM)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.cluster import key_slot

from routing_agent.config.spec import ExperimentStatus
from routing_agent.errors import StoreUnavailable
from routing_agent.stores._redis import experiment_tag
from routing_agent.stores.assignments import open_store
from routing_agent.stores.assignments._redis_layout import KeyLayout
from routing_agent.stores.observations import Observation, open_observation_store
from routing_agent.stores.observations.redis import _enc, _scope
from tests.support.redis_server import RedisServer

HOSTILE = ["exp", "a:b", "a}b", "{a}", "}", "{", "a{b}c", "~61", "#abc", "x" * 500, "Ünï 🙂", "a\nb",
           "a\x00b", "*", "exp:{exp:exp}", "", " ", "a:b:", ":a:b"]  # fmt: skip
ids = st.text(max_size=80)


@settings(max_examples=500, deadline=None)
@given(a=ids.filter(bool), b=ids.filter(bool))
def test_experiment_tags_are_injective_and_brace_free(a: str, b: str) -> None:
    ta, tb = experiment_tag(a), experiment_tag(b)
    assert "{" not in ta and "}" not in ta
    assert (ta == tb) == (a == b)


@settings(max_examples=500, deadline=None)
@given(e1=ids.filter(bool), u1=ids, e2=ids.filter(bool), u2=ids)
def test_unit_keys_never_collide_and_stay_in_their_slot(e1: str, u1: str, e2: str, u2: str) -> None:
    keys = KeyLayout("pfx")
    k1, k2 = keys.unit(e1, u1), keys.unit(e2, u2)
    assert (k1 == k2) == ((e1, u1) == (e2, u2))
    assert k1.startswith(b"pfx:{exp:")
    assert key_slot(k1) == key_slot(keys.fixed(e1, "state")) == key_slot(keys.fixed(e1, "counts"))
    assert k1 not in {keys.fixed(e1, n) for n in ("state", "counts", "history")}


parts = st.tuples(ids, st.none() | ids, st.none() | st.tuples(ids, ids), ids)


@settings(max_examples=500, deadline=None)
@given(a=parts, b=parts)
def test_observation_key_scopes_are_injective(a: tuple, b: tuple) -> None:  # type: ignore[type-arg]
    def key(p: tuple) -> str:  # type: ignore[type-arg]
        return _scope(p[0], p[1], p[2]) + _enc(p[3])

    assert (key(a) == key(b)) == (a == b)


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as srv:
        yield srv


def test_hostile_experiments_are_isolated(server: RedisServer) -> None:
    prefix = f"iso-{uuid.uuid4().hex[:6]}"
    store = open_store(f"{server.url}?prefix={prefix}&timeout=2")
    obs = open_observation_store(f"{server.url}?prefix={prefix}")
    experiments = [e for e in HOSTILE if e]
    try:
        for i, exp in enumerate(experiments):
            for unit in HOSTILE:
                assert store.get_or_set(exp, unit, f"v{i}") == (f"v{i}", True)
            store.set_state(exp, ExperimentStatus.PAUSED, actor=f"a{i}")
            obs.add([Observation(exp, f"v{i}", unit or "-", "m", float(i)) for unit in HOSTILE])
        for i, exp in enumerate(experiments):
            assert {store.get(exp, unit) for unit in HOSTILE} == {f"v{i}"}
            assert store.counts(exp) == {f"v{i}": len(HOSTILE)}
            state = store.get_state(exp)
            assert state is not None and state.actor == f"a{i}"
            [agg] = obs.unit_aggregates(exp, "m").values()
            assert agg.n_obs == len(HOSTILE) and agg.sum_x == float(i) * len(HOSTILE)
    finally:
        store.close()
        obs.close()


def acl_user(server: RedisServer, name: str, pattern: str) -> str:
    admin = redis.Redis(port=server.port)
    admin.execute_command(
        "ACL", "SETUSER", name, "reset", "on", ">pw-" + name, pattern, "+@all", "-@dangerous"
    )
    admin.close()
    return f"redis://{name}:pw-{name}@127.0.0.1:{server.port}/0"


def test_every_store_operation_stays_under_its_prefix(server: RedisServer) -> None:
    """A user that may only touch ``p9:*`` runs every assignment and observation operation on hostile ids."""
    url = acl_user(server, "routing", "~p9:*") + "?prefix=p9&timeout=2"
    store, obs = open_store(url), open_observation_store(url)
    try:
        for exp in [e for e in HOSTILE if e]:
            for unit in [*HOSTILE, "u" * 10_000]:
                store.get_or_set(exp, unit, "control", ttl_s=60)
                assert store.get(exp, unit) == "control"
            store.counts(exp)
            store.set_state(exp, ExperimentStatus.RUNNING, actor="t")
            store.set_state(exp, ExperimentStatus.PAUSED, actor="t", expected_version=1)
            store.history(exp)
            rows = [
                Observation(exp, v, u or "-", m, 1.5, agent="ag", segments={"tier": "t{x}"}, id=f"{v}{u}{m}")
                for v in ("control", "candidate")
                for u in HOSTILE[:5]
                for m in ("calls", "latency_s")
            ]
            assert obs.add(rows) == 20
            obs.unit_aggregates(exp, "latency_s", denominator="calls", agent="ag", segment=("tier", "t{x}"))
            list(obs.unit_values(exp, "calls"))
            obs.histogram(exp, "latency_s")
            obs.tail_aggregates(exp, "latency_s", {"control": 1.0})
            obs.counts_by_variant(exp), obs.metrics(exp), obs.segments(exp), obs.time_span(exp)
    finally:
        store.close()
        obs.close()


def test_the_acl_really_confines(server: RedisServer) -> None:
    """The same user with another prefix is refused: the test above would catch a key outside ``p9:*``."""
    url = acl_user(server, "confined", "~elsewhere:*") + "?prefix=p9&timeout=2"
    store = open_store(url)
    with pytest.raises(StoreUnavailable, match=r"NoPermissionError|NOPERM"):
        store.get_or_set("exp", "u", "control")
    store.close()
