"""Redis-only behaviour: Cluster key layout, one round trip, timeouts, outages, auth, TLS, injection."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio
from redis.crc import key_slot

from routing_agent.config.spec import ExperimentStatus
from routing_agent.errors import StoreUnavailable
from routing_agent.stores._redis import DEFAULT_ASYNC_TIMEOUT_S, DEFAULT_TIMEOUT_S, experiment_tag
from routing_agent.stores.assignments import RedisStore, open_store
from routing_agent.stores.assignments.loss import StoreLost
from tests.stores.test_assignments import TRICKY_IDS
from tests.support.redis_cluster import RedisCluster3
from tests.support.redis_server import RedisServer, free_port, redis_server_binary

EXPERIMENTS = ["exp", "a:b", "a}b", "{a}", "}", "{", "Ünïcode", "x" * 500, "a b", "#abc", "~61"]


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of this test alone (for command statistics, pauses and kills)."""
    with RedisServer() as server:
        yield server


def test_every_key_of_an_experiment_shares_one_cluster_slot(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=redis_prefix)
    try:
        slots_by_experiment = {}
        for exp in EXPERIMENTS:
            keys = [store.unit_key(exp, u) for u in [*TRICKY_IDS, "y" * 10_000]]
            keys += list(store.experiment_keys(exp).values())
            slots = {key_slot(k) for k in keys}
            assert len(slots) == 1, (exp, slots)
            slots_by_experiment[exp] = slots.pop()
            tag = experiment_tag(exp)
            assert "{" not in tag and "}" not in tag
            for k in keys:  # the hash tag Redis sees is exactly ours
                assert k[k.index(b"{") + 1 : k.index(b"}")] == f"exp:{tag}".encode()
        assert len({experiment_tag(e) for e in EXPERIMENTS}) == len(EXPERIMENTS)  # injective
        assert len(set(slots_by_experiment.values())) > 1  # experiments spread over slots
        # Long unit ids are stored under a fixed-length digest, short ones verbatim.
        assert len(store.unit_key("exp", "y" * 10_000)) < 120
        assert store.unit_key("exp", "a:b").endswith(b":a:u:a:b")
    finally:
        store.close()


def test_prefix_must_not_break_the_hash_tag(redis_url: str) -> None:
    for bad in ["", "p{x}", "p}", "{"]:
        with pytest.raises(ValueError, match="prefix"):
            RedisStore.from_url(redis_url, prefix=bad)


def test_get_or_set_is_one_round_trip(private_redis: RedisServer) -> None:
    store = RedisStore.from_url(private_redis.url, prefix="rt", timeout_s=2.0)
    admin = redis.Redis.from_url(private_redis.url)
    try:
        store.get_or_set("exp", "warm-up", "a")  # loads the script (NOSCRIPT → SCRIPT LOAD → EVALSHA)
        admin.config_resetstat()
        for i in range(40):
            store.get_or_set("exp", f"u{i}", "a")  # 40 created
        for i in range(40):
            store.get_or_set("exp", f"u{i}", "b")  # 40 sticky
        calls = {k.removeprefix("cmdstat_"): v["calls"] for k, v in admin.info("commandstats").items()}
        calls.pop("config|resetstat", None)
        info = calls.pop("info", 0)  # the test's own INFO is counted after it answers
        # 80 client commands, all EVALSHA. Inside the script: 80 GET and 80 HMGET (the experiment's anchor);
        # creations only: INFO (has Redis evicted keys?), SET, HINCRBY, HSETNX (the counts' ``@anchored``
        # mark) and PEXPIRE (counts retention); sticky
        # hits only: PTTL (renew the unit's retention when half gone).
        assert info == 40
        assert calls == {
            "evalsha": 80,
            "get": 80,
            "hmget": 80,
            "set": 40,
            "hincrby": 40,
            "hsetnx": 40,
            "pexpire": 40,
            "pttl": 40,
        }
    finally:
        store.close()
        admin.close()


def test_script_cache_flush_is_survived(private_redis: RedisServer) -> None:
    store = RedisStore.from_url(private_redis.url, prefix="flush", timeout_s=2.0)
    admin = redis.Redis.from_url(private_redis.url)
    try:
        assert store.get_or_set("exp", "u1", "a") == ("a", True)
        admin.script_flush()
        assert store.get_or_set("exp", "u1", "b") == ("a", False)
        admin.script_flush()
        assert store.set_state("exp", ExperimentStatus.PAUSED, actor="x").version == 1
    finally:
        store.close()
        admin.close()


# Bounds: calls x 2 attempts (one retry on a broken connection) x the client timeout, plus 5 s of slack for
# a loaded machine; without the client policy (no timeout, redis-py's retries with back-off) a call waits
# far longer or forever.
SLACK_S = 5.0


def test_nothing_listening_is_unavailable_fast() -> None:
    store = open_store(f"redis://127.0.0.1:{free_port()}/0")
    try:
        started = time.perf_counter()
        for call in (
            lambda: store.get_or_set("exp", "u", "a"),
            lambda: store.get("exp", "u"),
            lambda: store.get_state("exp"),
            lambda: store.set_state("exp", ExperimentStatus.PAUSED, actor="x"),
            lambda: store.counts("exp"),
            lambda: store.history("exp"),
        ):
            with pytest.raises(StoreUnavailable, match="Redis store"):
                call()
        assert time.perf_counter() - started < 6 * 2 * DEFAULT_TIMEOUT_S + SLACK_S
    finally:
        store.close()


async def test_nothing_listening_is_unavailable_fast_async() -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{free_port()}/0")
    try:
        started = time.perf_counter()
        with pytest.raises(StoreUnavailable):
            await store.aget_or_set("exp", "u", "a")
        with pytest.raises(StoreUnavailable):
            await store.aget("exp", "u")
        with pytest.raises(StoreUnavailable):
            await store.aget_state("exp")
        assert time.perf_counter() - started < 3 * 2 * DEFAULT_ASYNC_TIMEOUT_S + SLACK_S
    finally:
        await store.aclose()


def test_a_stalled_server_times_out_at_the_client_timeout(private_redis: RedisServer) -> None:
    store = RedisStore.from_url(private_redis.url, prefix="slow")  # default 50 ms
    admin = redis.Redis.from_url(private_redis.url)
    try:
        assert store.get_or_set("exp", "u", "a") == ("a", True)
        admin.execute_command("CLIENT", "PAUSE", 4000, "ALL")  # the server answers nobody for 4 s
        started = time.perf_counter()
        with pytest.raises(StoreUnavailable, match="Timeout"):
            store.get("exp", "u")
        # the server stays silent for 4 s: failing before proves the 50 ms client timeout fired
        assert time.perf_counter() - started < DEFAULT_TIMEOUT_S + SLACK_S
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        store.close()
        admin.close()


def test_killed_server_is_unavailable_and_a_restart_is_picked_up(private_redis: RedisServer) -> None:
    store = RedisStore.from_url(private_redis.url, prefix="kill", timeout_s=2.0)
    try:
        assert store.get_or_set("exp", "u", "a") == ("a", True)
        private_redis.kill()
        with pytest.raises(StoreUnavailable):
            store.get_or_set("exp", "u2", "a")
        with pytest.raises(StoreUnavailable):
            store.get("exp", "u")
        private_redis.start()  # same port, empty (no persistence): the data is gone
        # the pooled connection is dead; one immediate retry reconnects without surfacing an error, and the
        # missing anchor says the store lost the experiment: no unit is silently assigned afresh
        with pytest.raises(StoreLost) as lost:
            store.get_or_set("exp", "u", "b")
        assert lost.value.loss.reason == "anchor_missing"
        assert store.get("exp", "u") is None
        loss = store.loss("exp")  # recorded in the store, for every worker
        assert loss is not None and loss.reason == "anchor_missing"
    finally:
        store.close()


async def test_killed_server_async(private_redis: RedisServer) -> None:
    store = RedisStore.from_url(private_redis.url, prefix="kill", timeout_s=2.0)
    try:
        assert await store.aget_or_set("exp", "u", "a") == ("a", True)
        private_redis.kill()
        with pytest.raises(StoreUnavailable):
            await store.aget_or_set("exp", "u2", "a")
        private_redis.start()
        with pytest.raises(StoreLost):
            await store.aget_or_set("exp", "u", "b")
        assert store.acknowledge_loss("exp", actor="test", reason="empty on purpose")
        assert await store.aget_or_set("exp", "u", "b") == ("b", True)
    finally:
        await store.aclose()


def test_password_from_an_environment_variable(
    private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = private_redis
    admin = redis.Redis.from_url(server.url)
    admin.config_set("requirepass", "s3cret")
    admin.close()
    monkeypatch.setenv("RA_TEST_REDIS_PASSWORD", "s3cret")
    for store in (
        open_store(server.url, password_env="RA_TEST_REDIS_PASSWORD", prefix="auth"),
        open_store(server.url + "?password_env=RA_TEST_REDIS_PASSWORD&prefix=auth2"),
    ):
        try:
            assert store.get_or_set("exp", "u", "a") == ("a", True)
        finally:
            store.close()
    anonymous = open_store(server.url)
    try:
        with pytest.raises(StoreUnavailable, match="Authentication"):
            anonymous.get("exp", "u")
    finally:
        anonymous.close()
    monkeypatch.delenv("RA_TEST_REDIS_PASSWORD")
    with pytest.raises(ValueError, match="RA_TEST_REDIS_PASSWORD"):
        open_store(server.url, password_env="RA_TEST_REDIS_PASSWORD")


def _make_certs(folder: Path) -> tuple[Path, Path, Path]:
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem"))
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
        "-days", "2", "-subj", "/CN=routing-agent test CA")  # fmt: skip
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(csr),
        "-subj",
        "/CN=localhost",
    )
    ext = folder / "ext.cnf"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "2", "-extfile", str(ext))  # fmt: skip
    return ca, cert, key


def test_rediss_url_talks_tls(tmp_path: Path) -> None:
    ca, cert, key = _make_certs(tmp_path)
    port = free_port()
    args = [redis_server_binary(), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
            "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca),
            "--tls-auth-clients", "no", "--save", "", "--appendonly", "no",
            "--dir", str(tmp_path)]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}"
    try:
        deadline = time.monotonic() + 10
        while True:
            probe = redis.Redis.from_url(url, socket_timeout=0.5)
            try:
                probe.ping()
                break
            except redis.RedisError:
                assert time.monotonic() < deadline and proc.poll() is None, "TLS redis-server did not start"
                time.sleep(0.05)
            finally:
                probe.close()
        store = open_store(url, prefix="tls", timeout_s=1.0)
        try:
            assert store.get_or_set("exp", "u", "a") == ("a", True)
            assert store.get("exp", "u") == "a"
        finally:
            store.close()
        plain = open_store(f"redis://127.0.0.1:{port}/0", timeout_s=0.5)  # no TLS: refused by the server
        try:
            with pytest.raises(StoreUnavailable):
                plain.get("exp", "u")
        finally:
            plain.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_injected_clients_and_prefix(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        store = RedisStore(client, prefix=redis_prefix)
        assert store.get_or_set("exp", "u", "a") == ("a", True)
        assert store.get("exp", "u") == "a"
        assert store.counts("exp") == {"a": 1}
        store.set_state("exp", ExperimentStatus.RUNNING, actor="x")
        assert [s.version for s in store.history("exp")] == [1]
        # the async twins fall back to the sync client in a worker thread
        assert asyncio.run(store.aget_or_set("exp", "u", "b")) == ("a", False)
        store.close()
        assert client.ping()  # an injected client belongs to its owner: close() leaves it open
        # the same data under the same prefix through another store
        assert RedisStore(client, prefix=redis_prefix).get("exp", "u") == "a"
        assert RedisStore(client, prefix=redis_prefix + "-other").get("exp", "u") is None
    finally:
        client.close()


async def test_injected_async_client(redis_url: str, redis_prefix: str) -> None:
    aclient = redis.asyncio.Redis.from_url(redis_url)
    try:
        store = RedisStore(async_client=aclient, prefix=redis_prefix)
        assert await store.aget_or_set("exp", "u", "a") == ("a", True)
        assert await store.aget("exp", "u") == "a"
        with pytest.raises(RuntimeError, match="async client"):
            store.get("exp", "u")
    finally:
        await aclient.aclose()


def test_async_clients_are_per_event_loop(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    try:
        # event loops one after another (asyncio.run per job): each gets its own client, released at the end
        async def job(variant: str) -> tuple[str, bool]:
            try:
                return await store.aget_or_set("exp", "u", variant)
            finally:
                await store.arelease()

        assert asyncio.run(job("a")) == ("a", True)
        assert asyncio.run(job("b")) == ("a", False)
        assert asyncio.run(job("c")) == ("a", False)
        assert not store._loop_clients
    finally:
        store.close()


def test_missing_redis_package_gives_an_install_hint() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "from routing_agent.stores.assignments import open_store\n"
        "from routing_agent.errors import MissingDependency\n"
        "try:\n    open_store('redis://localhost:6379/0')\n"
        "except MissingDependency as exc:\n    print(exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "pip install 'routing-agent[redis]'" in out.stdout


def test_cluster_keeps_an_experiment_on_one_node_and_spreads_them(redis_cluster: RedisCluster3) -> None:
    prefix = f"spread-{time.monotonic_ns()}"
    store = open_store(f"{redis_cluster.url}?cluster=true", prefix=prefix, timeout_s=2.0)
    experiments = [f"exp-{i}" for i in range(24)] + ["a:b", "{x}", "Ünï"]
    try:
        for exp in experiments:
            for unit in ["u1", "a:b", "}{", "é" * 300]:
                store.get_or_set(exp, unit, "control", ttl_s=60)
            store.set_state(exp, ExperimentStatus.RUNNING, actor="t")
        nodes_of: dict[bytes, set[int]] = {}
        for port in redis_cluster.ports:
            node = redis.Redis(port=port)
            for key in node.scan_iter(match=f"{prefix}*", count=1000):
                tag = key[key.index(b"{") : key.index(b"}") + 1]
                nodes_of.setdefault(tag, set()).add(port)
            node.close()
        assert len(nodes_of) == len(experiments)
        assert all(len(ports) == 1 for ports in nodes_of.values())  # one experiment, one node
        assert len(set().union(*nodes_of.values())) == 3  # experiments spread over all three primaries
    finally:
        store.close()
