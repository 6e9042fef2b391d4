"""Redis durability settings against real servers: the start-up check of ``maxmemory-policy`` and persistence
(warn, refuse, a managed Redis without ``CONFIG``), retention TTLs on every unit-scaled key, the loss record
seen by ``status`` and cleared by ``recover``, and ``purge``."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest
import redis
from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.errors import StoreMisconfigured
from routing_agent.stores import _redis
from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations import Observation, open_observation_store
from tests.support.redis_server import RedisServer

runner = CliRunner()
DAY_MS = 86_400_000


@pytest.fixture
def lossy() -> Iterator[RedisServer]:
    """A server that can lose data both ways: allkeys-lru and no persistence."""
    with RedisServer(extra_args=("--maxmemory-policy", "allkeys-lru")) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    _redis._warned.clear()  # each test sees the once-per-process warnings
    yield
    _redis._warned.clear()


def test_a_lossy_server_is_warned_about_once_or_refused(
    lossy: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="routing_agent.stores"):
        for _ in range(2):
            open_store(lossy.url).close()
            open_observation_store(lossy.url).close()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2  # one per problem, once per process
    assert any("maxmemory-policy is allkeys-lru" in w and "noeviction" in w for w in warnings)
    assert any("no persistence" in w and "appendonly yes" in w for w in warnings)
    with pytest.raises(StoreMisconfigured, match="maxmemory-policy is allkeys-lru"):
        open_store(lossy.url + "?durability=refuse")
    with pytest.raises(StoreMisconfigured, match="no persistence"):
        open_observation_store(lossy.url + "?durability=refuse")
    with pytest.raises(ValueError, match="durability"):
        open_store(lossy.url + "?durability=maybe")


def test_a_durable_server_passes_and_config_disabled_is_said(caplog: pytest.LogCaptureFixture) -> None:
    with RedisServer(extra_args=("--appendonly", "yes")) as durable:
        open_store(durable.url + "?durability=refuse").close()  # noeviction (default) + AOF: accepted
    with RedisServer(extra_args=("--rename-command", "CONFIG", "")) as managed:
        with caplog.at_level(logging.WARNING, logger="routing_agent.stores"):
            open_store(managed.url).close()
        assert any("CONFIG GET is disabled" in r.getMessage() for r in caplog.records)
        with pytest.raises(StoreMisconfigured, match="CONFIG GET is disabled"):
            open_store(managed.url + "?durability=refuse")


def test_unit_scaled_keys_expire_after_the_retention(redis_url: str, redis_prefix: str) -> None:
    url = f"{redis_url}?prefix={redis_prefix}&retention_days=2"
    store, observations = open_store(url), open_observation_store(url)
    admin = redis.Redis.from_url(redis_url)
    try:
        store.get_or_set("exp", "u1", "a")
        store.get_or_set("exp", "u2", "a", ttl_s=60.0)  # a sticky TTL wins for its unit
        store.set_state("exp", "rolled_back", actor="test")
        observations.add(
            [
                Observation("exp", "a", f"u{i}", m, 1.0, agent="bot", id=f"o{i}{m}")
                for i in range(3)
                for m in "xy"
            ]
        )
        ttls = {k.decode(): admin.pttl(k) for k in admin.scan_iter(match=f"{redis_prefix}:*")}
        never = {k for k, ttl in ttls.items() if ttl == -1}
        assert never == {f"{redis_prefix}:{{exp:exp}}:state", f"{redis_prefix}:{{exp:exp}}:history"}
        assert 0 < ttls[f"{redis_prefix}:{{exp:exp}}:a:u:u2"] <= 60_000
        assert 1.9 * DAY_MS < ttls[f"{redis_prefix}:{{exp:exp}}:a:u:u1"] <= 2 * DAY_MS
        ids = {k: t for k, t in ttls.items() if ":o:ids:" in k}
        assert ids and all(0 < t <= 2 * 3_600_000 for t in ids.values())  # two one-hour dedup windows
        data = {k: t for k, t in ttls.items() if ":o:" in k and k not in ids}
        assert len(data) > 10 and all(1.9 * DAY_MS < t <= 2 * DAY_MS for t in data.values())
        # a retried observation is still recognised (its id slice and member do not depend on write time)
        assert observations.add([Observation("exp", "a", "u0", "x", 1.0, agent="bot", id="o0x")]) == 0
    finally:
        store.close()
        observations.close()
        admin.close()


def test_status_shows_a_loss_until_recover(redis_url: str, redis_prefix: str) -> None:
    url = f"{redis_url}?prefix={redis_prefix}"
    store = open_store(f"{url}&timeout=10")  # the loss is under test, not a busy machine's 50 ms timeouts
    try:
        store.get_or_set("exp", "u1", "a")
        admin = redis.Redis.from_url(redis_url)
        admin.delete(*admin.scan_iter(match=f"{redis_prefix}:*"))  # what FLUSHDB does to this prefix
        admin.close()
        store.read_state("exp")  # a running worker notices
        status = runner.invoke(app, ["status", "-e", "exp", "--store", url])
        assert status.exit_code == 0, status.output
        assert "STORE LOST DATA" in status.output and "recover" in status.output
        listed = runner.invoke(app, ["status", "-e", "exp", "--store", url, "--json"])
        assert '"reason": "anchor_missing"' in listed.output
        recover = runner.invoke(app, ["recover", "-e", "exp", "--store", url, "--reason", "checked, AOF on"])
        assert recover.exit_code == 0 and "acknowledged" in recover.output
        assert "STORE LOST DATA" not in runner.invoke(app, ["status", "-e", "exp", "--store", url]).output
        again = runner.invoke(app, ["recover", "-e", "exp", "--store", url, "--reason", "twice"])
        assert again.exit_code == 0 and "nothing to do" in again.output
    finally:
        store.close()


def test_purge_deletes_one_experiment_and_refuses_a_running_one(redis_url: str, redis_prefix: str) -> None:
    url = f"{redis_url}?prefix={redis_prefix}"
    store, observations = open_store(url), open_observation_store(url)
    admin = redis.Redis.from_url(redis_url)
    try:
        for exp in ("gone", "kept"):
            store.get_or_set(exp, "u1", "a")
            observations.add([Observation(exp, "a", "u1", "calls", 1.0, id=f"{exp}-1")])
        refused = runner.invoke(app, ["purge", "-e", "gone", "--store", url, "--yes"])
        assert refused.exit_code == 1 and "--force" in refused.output
        store.set_state("gone", "stopped", actor="test")
        done = runner.invoke(app, ["purge", "-e", "gone", "--store", url, "--yes"])
        assert done.exit_code == 0, done.output
        left = {k.decode() for k in admin.scan_iter(match=f"{redis_prefix}:*")}
        assert left and not any("{exp:gone}" in k for k in left)
        assert any("{exp:kept}" in k for k in left)
        sqlite = runner.invoke(app, ["purge", "-e", "gone", "--store", "memory://", "--yes"])
        assert sqlite.exit_code == 2 and "needs a Redis store" in sqlite.output
    finally:
        store.close()
        observations.close()
        admin.close()


def test_a_write_costs_the_same_whatever_the_units_history(redis_prefix: str) -> None:
    """O(1) per observation: the commands a write runs inside Redis do not grow with a unit's history, and no
    stored value grows with it either (issue 15: one string rewritten per observation stalled Redis).

    A private server: ``INFO commandstats`` counts every client's commands, and another test's on a shared
    server would show up in the count."""
    with RedisServer() as server:
        _write_cost_is_flat(server.url, redis_prefix)


def _write_cost_is_flat(redis_url: str, redis_prefix: str) -> None:
    store = open_observation_store(f"{redis_url}?prefix={redis_prefix}&timeout=10")
    admin = redis.Redis.from_url(redis_url)
    sent = 0

    def batch(size: int = 200) -> list[Observation]:
        nonlocal sent
        sent += size
        return [
            Observation(
                "exp", "control", "hot", "latency_s", 1.0 + i % 7, agent="a", ts=1.8e9, id=f"o{sent - i}"
            )
            for i in range(size)
        ]

    def sizes() -> dict[bytes, int]:
        """The longest value of every hash (a unit record holds one counter per log bucket it met)."""
        out = {}
        for key in admin.scan_iter(match=f"{redis_prefix}:*"):
            kind = admin.type(key)
            assert kind != b"string"
            if kind == b"hash":
                out[key] = max(len(v) for v in admin.hvals(key))
        return out

    def cost() -> dict[str, int]:
        admin.config_resetstat()
        assert store.add(batch()) == 200
        stats = admin.info("commandstats")
        return {
            k: v["calls"] for k, v in stats.items() if k not in ("cmdstat_config|resetstat", "cmdstat_info")
        }

    try:
        while sent < 2_000:
            store.add(batch())
        early, early_sizes = cost(), sizes()
        while sent < 12_000:
            store.add(batch())
        late = cost()
        # the same commands, as many times, at 6x the history; only the TTLs of id slices met for the first
        # time (sets of 1,024 slices, filled by then) can be fewer
        assert late.pop("cmdstat_pexpire") <= early.pop("cmdstat_pexpire")
        assert late == early
        # counts and sums (digits only), and one record per unit with a counter per log bucket met (7 values:
        # 7 buckets) that does not grow with the unit's history
        late_sizes = sizes()
        records = {k for k in late_sizes if b":o:r:" in k}
        assert records and all(late_sizes[k] == early_sizes[k] <= 22 + 7 * 8 for k in records)
        assert all(n <= 24 for k, n in late_sizes.items() if k not in records)
    finally:
        store.close()
        admin.close()


def test_data_written_before_anchors_is_adopted_not_lost(redis_url: str, redis_prefix: str) -> None:
    """Upgrading a running deployment: counts and a state written by the previous version are not a loss."""
    admin = redis.Redis.from_url(redis_url)
    base = f"{redis_prefix}:{{exp:"
    admin.hset(base + "old}:counts", mapping={"a": 3, "b": 2})  # assignments only, no state
    admin.set(base + "old}:a:u:u1", "b")
    old_state = '{"experiment":"ruled","status":"rolled_back","winner":null,"changed_at":1,"actor":"x"}'
    admin.hset(base + "ruled}:state", mapping={"version": 1, "data": old_state})
    store = open_store(f"{redis_url}?prefix={redis_prefix}")
    try:
        assert store.read_state("old") == (None, None)
        assert store.get_or_set("old", "u1", "a") == ("b", False)
        state, loss = store.read_state("ruled")
        assert loss is None and state is not None and state.status.value == "rolled_back"
        # from now on the counts carry the mark: losing the anchor later is seen
        store.get_or_set("old", "u2", "a")
        admin.delete(base + "old}:state")
        assert open_store(f"{redis_url}?prefix={redis_prefix}").read_state("old")[1] is not None
    finally:
        store.close()
        admin.close()


def test_an_earlier_layout_experiment_is_refused_until_purged(redis_url: str, redis_prefix: str) -> None:
    """Observations written by the per-scope layout (before unit records) cannot be continued: writes and
    reads refuse them with the command that clears them, and after ``purge`` the experiment starts afresh."""
    url = f"{redis_url}?prefix={redis_prefix}"
    admin = redis.Redis.from_url(redis_url)
    base = f"{redis_prefix}:{{exp:old}}:o:"
    admin.sadd(base + "variants", "a")  # what the earlier layout left: sets and per-scope hashes of units
    admin.hset(base + "s:5.calls--1.a", "u1", "3")
    admin.hset(base + "t:5.calls--1.a", mapping={"n_units": 1, "n_obs": 3, "sx": 3})
    observations = open_observation_store(url)
    try:
        obs = Observation("old", "a", "u2", "calls", 1.0, id="new-1")
        with pytest.raises(StoreMisconfigured, match="routing-agent purge -e old"):
            observations.add([obs])
        with pytest.raises(StoreMisconfigured, match="routing-agent purge -e old"):
            observations.unit_aggregates("old", "calls")
        with pytest.raises(StoreMisconfigured, match="routing-agent purge -e old"):
            list(observations.unit_values("old", "calls"))
        assert admin.hget(base + "t:5.calls--1.a", "n_obs") == b"3"  # nothing was written
        observations.add([Observation("new", "a", "u1", "calls", 1.0, id="n-1")])  # others are unaffected
        done = runner.invoke(app, ["purge", "-e", "old", "--store", url, "--yes", "--force"])
        assert done.exit_code == 0, done.output
        assert observations.add([obs]) == 1
        assert observations.unit_aggregates("old", "calls")["a"].n_obs == 1
    finally:
        observations.close()
        admin.close()


def test_a_one_call_session_costs_at_most_one_kilobyte(redis_url: str, redis_prefix: str) -> None:
    """Issue 15's target: the keys of 1,000 sessions (one experiment, one LLM call: an assignment and the
    eight observations the telemetry writes) hold ≤ 1 KB per session, observation ids included."""
    url = f"{redis_url}?prefix={redis_prefix}&timeout=10"
    store, observations = open_store(url), open_observation_store(url)
    admin = redis.Redis.from_url(redis_url)
    metrics = (
        "calls",
        "latency_s",
        "cost_usd",
        "input_tokens",
        "output_tokens",
        "error",
        "refusal",
        "unpriced",
    )
    rng = random.Random(3)
    try:
        batch: list[Observation] = []
        for i in range(1000):
            unit = f"session-{i:08d}-{rng.getrandbits(32):08x}"
            variant, _ = store.get_or_set("exp", unit, ("control", "candidate")[i % 2])
            batch += [
                Observation(
                    "exp", variant, unit, m, rng.lognormvariate(0, 1), agent="answer", id=f"{unit}{m}"
                )
                for m in metrics
            ]
        for start in range(0, len(batch), 500):
            observations.add(batch[start : start + 500])
        used = {
            k: int(admin.memory_usage(k, samples=0) or 0) for k in admin.scan_iter(match=f"{redis_prefix}:*")
        }
        per_session = sum(used.values()) / 1000
        records = sum(n for k, n in used.items() if b":o:r:" in k) / 1000
        assert per_session <= 1024, (per_session, records)
        assert not any(b":o:s:" in k or b":o:u:" in k for k in used)  # no per-scope hashes of unit ids
    finally:
        store.close()
        observations.close()
        admin.close()


def test_a_variant_first_seen_during_a_read_is_named(redis_url: str, redis_prefix: str) -> None:
    """A reader loads the experiment's name index once; a variant interned by a writer after that (workers
    keep writing while ``watch`` evaluates) is looked up again, not a ``KeyError``."""
    observations = open_observation_store(f"{redis_url}?prefix={redis_prefix}")
    try:
        observations.add([Observation("exp", "control", "u1", "m", 1.0, id="1")])
        reader = observations._records("exp")  # the index now knows control only
        observations.add([Observation("exp", "candidate", "u2", "m", 2.0, id="2")])
        assert set(reader.paired("m", "m", None, None)) == {"control", "candidate"}
        assert {v.variant for v in reader.unit_values("m", None, None)} == {"control", "candidate"}
    finally:
        observations.close()


def test_a_full_id_slice_overflows_one_level_down_and_retries_are_still_recognised(
    redis_url: str, redis_prefix: str
) -> None:
    """Id sets stay compact intsets (≤ 512 members): 600 ids of one slice fill it and spill to the next
    level, and a retry of any of them is still ignored (issue 15: 800k ids made 70 MB of hashtable sets)."""
    from routing_agent.stores.observations._redis_scripts import _id_slot

    ids, n = [], 0
    while len(ids) < 600:
        n += 1
        if int(_id_slot(f"id-{n}", 1.8e9, 3600.0)[1].split(":")[0]) % 1024 == 0:
            ids.append(f"id-{n}")
    observations = open_observation_store(f"{redis_url}?prefix={redis_prefix}")
    admin = redis.Redis.from_url(redis_url)
    try:
        rows = [Observation("exp", "a", f"u{i % 7}", "m", 1.0, ts=1.8e9, id=oid) for i, oid in enumerate(ids)]
        assert observations.add(rows) == 600
        assert observations.add(rows) == 0
        assert observations.add(list(reversed(rows[:50]))) == 0
        sets = {k: admin.scard(k) for k in admin.scan_iter(match=f"{redis_prefix}:*:o:ids:*")}
        assert sorted(sets.values())[-1] == 512 and sum(sets.values()) == 600
        assert all(admin.object("encoding", k) == b"intset" for k in sets)
        assert observations.unit_aggregates("exp", "m")["a"].n_obs == 600
    finally:
        observations.close()
        admin.close()
