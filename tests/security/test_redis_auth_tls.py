"""Redis authentication and TLS through the store URLs, against real servers started by the tests.

* ``requirepass``: the password in the URL, or — to keep it out of configs — ``?password_env=VAR``; a wrong
  or missing password degrades routing (hash fallback, one warning) and never appears in a log line.
* TLS (``rediss://``) with a CA generated here (``ssl_ca_certs``), and mutual TLS with a client certificate
  (``ssl_certfile`` / ``ssl_keyfile``): the assignment and observation stores both work; an untrusted server
  certificate, a missing client certificate or a plain-text client degrade routing instead of failing it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations import Observation, open_observation_store
from tests.graph.conftest import build_graph
from tests.graph.test_routing_node import make_config
from tests.security.tls import TlsFiles, TlsRedis, make_tls_files
from tests.support.redis_server import RedisServer

PASSWORD = "correct-horse-battery-staple-7"
WRONG = "wrong-horse-battery-staple-9"


@pytest.fixture(scope="module")
def secured() -> Iterator[RedisServer]:
    with RedisServer() as server:
        admin = redis.Redis(port=server.port)
        admin.config_set("requirepass", PASSWORD)  # set once up (the helper's readiness ping has no password)
        admin.close()
        yield server


def route(url: str) -> tuple[dict[str, Any], Any]:
    store = open_store(url)
    graph, node = build_graph(make_config(), store)
    record = dict(graph.invoke({"session_id": "s-1", "seen": []})["routing"]["exp"])
    store.close()
    return record, node


def port_of(server: RedisServer) -> int:
    return server.port


def test_password_in_the_url_or_named_by_password_env(
    secured: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RA_TEST_REDIS_PASSWORD", PASSWORD)
    base = f"127.0.0.1:{port_of(secured)}/0"
    for url in (
        f"redis://:{PASSWORD}@{base}?timeout=2",
        f"redis://{base}?password_env=RA_TEST_REDIS_PASSWORD&timeout=2",
    ):
        record, node = route(url + "&prefix=auth")
        assert record["reason"] in {"hashed", "sticky"}, record
        assert node.stats()["events"] == {}
    obs = open_observation_store(f"redis://{base}?password_env=RA_TEST_REDIS_PASSWORD&prefix=auth")
    assert obs.add([Observation("exp", "control", "u", "calls", 1.0)]) == 1
    obs.close()


@pytest.mark.parametrize("credentials", ["", f":{WRONG}@"])
def test_a_missing_or_wrong_password_degrades_and_is_never_logged(
    credentials: str, secured: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        record, node = route(f"redis://{credentials}127.0.0.1:{port_of(secured)}/0?timeout=2&prefix=auth")
    assert record["reason"] == "store_unavailable" and record["variant"] in {"control", "candidate"}
    assert node.stats()["events"]["outage"] == 1
    [warning] = [r.getMessage() for r in caplog.records if "assignment store unavailable" in r.getMessage()]
    assert "Authentication" in warning or "NOAUTH" in warning or "password" in warning
    assert all(WRONG not in r.getMessage() and PASSWORD not in r.getMessage() for r in caplog.records)


def test_an_unset_password_variable_is_a_clear_error(secured: RedisServer) -> None:
    with pytest.raises(ValueError, match=r"\$RA_TEST_NOT_SET is not set"):
        open_store(f"redis://127.0.0.1:{port_of(secured)}/0?password_env=RA_TEST_NOT_SET")
    with pytest.raises(ValueError, match=r"\$RA_TEST_NOT_SET is not set"):
        open_observation_store(f"redis://127.0.0.1:{port_of(secured)}/0?password_env=RA_TEST_NOT_SET")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_server(tls_files: TlsFiles) -> Iterator[TlsRedis]:
    server = TlsRedis(tls_files, auth_clients="no").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def mtls_server(tls_files: TlsFiles) -> Iterator[TlsRedis]:
    server = TlsRedis(tls_files, auth_clients="yes").start()
    try:
        yield server
    finally:
        server.stop()


def test_tls_with_the_generated_ca(tls_server: TlsRedis, tls_files: TlsFiles) -> None:
    url = tls_server.tls_url(ssl_ca_certs=str(tls_files.ca), timeout="2", prefix="tls")
    record, node = route(url)
    assert record["reason"] == "hashed" and node.stats()["events"] == {}
    obs = open_observation_store(url)
    assert obs.add([Observation("exp", "control", "u", "calls", 1.0)]) == 1
    assert obs.unit_aggregates("exp", "calls")["control"].n_obs == 1
    obs.close()


@pytest.mark.parametrize(
    "case",
    ["untrusted-ca", "plain-text-client"],
)
def test_tls_failures_degrade_routing(case: str, tls_server: TlsRedis, tls_files: TlsFiles) -> None:
    if case == "untrusted-ca":
        url = tls_server.tls_url(ssl_ca_certs=str(tls_files.other_ca), timeout="2")
    else:
        url = f"redis://127.0.0.1:{tls_server.tls_port}/0?timeout=2"
    record, node = route(url)
    assert record["reason"] == "store_unavailable"
    assert node.stats()["events"]["outage"] == 1


def test_mutual_tls_needs_the_client_certificate(mtls_server: TlsRedis, tls_files: TlsFiles) -> None:
    ca = str(tls_files.ca)
    cert, key = str(tls_files.client_cert), str(tls_files.client_key)
    with_cert = mtls_server.tls_url(
        ssl_ca_certs=ca, ssl_certfile=cert, ssl_keyfile=key, timeout="2", prefix="m"
    )
    record, _ = route(with_cert)
    assert record["reason"] == "hashed"
    record, node = route(mtls_server.tls_url(ssl_ca_certs=ca, timeout="2", prefix="m"))
    assert record["reason"] == "store_unavailable" and node.stats()["events"]["outage"] == 1


def test_tls_material_is_real(tls_files: TlsFiles) -> None:
    """The generated certificates verify with openssl (so the tests above exercise real TLS)."""
    import subprocess

    out = subprocess.run(
        ["openssl", "verify", "-CAfile", str(tls_files.ca), str(tls_files.server_cert),
         str(tls_files.client_cert)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
