"""The dashboard on every store backend, and several dashboard processes over one store.

Real SQLite, Redis and Redis Cluster stores: the pages show the units assigned per arm from the store, a
change made through one dashboard is seen (state, audit trail with the actor) by another that holds its own
store clients, and a sign-in cookie from one process is accepted by another (stateless, shared token).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.stores.assignments import open_store
from tests.dashboard.support import CONFIG, EXPERIMENT, TOKEN, add_traffic, free_port, make_client, sign_in


def test_two_dashboards_share_state_on_every_backend(urls: tuple[str, str]) -> None:
    store_url, obs_url = urls
    store = open_store(store_url)
    add_traffic(store, obs_url, 120, slow=2.5)
    one, two = make_client(store_url, obs_url), make_client(store_url, obs_url)
    page = one.get("/").text
    assert re.search(r'data-variant="control" data-units="120"', page), page[:2000]
    assert 'data-variant="candidate" data-units="120"' in page
    speed = one.get(f"/experiments/{EXPERIMENT}").text
    p95 = {
        (m, v): float(p)
        for m, v, p in re.findall(
            r"<tr><td>(latency_s|ttft_s)</td><td>(\w+)</td><td>120</td><td>[^<]+</td><td>[^<]+</td><td>([^<]+)</td>",
            speed,
        )
    }
    assert set(p95) == {(m, v) for m in ("latency_s", "ttft_s") for v in ("control", "candidate")}, p95
    assert p95["latency_s", "candidate"] > 1.5 * p95["latency_s", "control"]  # the candidate is 2.5x slower
    csrf = sign_in(one, "dana")
    two.cookies.update(one.cookies)  # the same browser talking to another process behind the same address
    r = two.post(
        f"/experiments/{EXPERIMENT}/actions/rollback",
        data={"csrf": csrf, "reason": "p95 2x", "confirm": "yes"},
    )
    assert r.status_code == 200 and "rollback: applied" in r.text
    seen = one.get(f"/experiments/{EXPERIMENT}?fragment=1").text
    assert 'data-state="rolled_back"' in seen and "dana" in seen and "p95 2x" in seen
    state = store.get_state(EXPERIMENT)
    assert state is not None and (state.status, state.actor) == (S.ROLLED_BACK, "dana")
    store.close()


def test_several_dashboard_processes(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    """Two ``routing-agent dashboard`` processes over one Redis: sign in on one, act on the other (--poll)."""
    cfg = tmp_path / "experiments.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    store_url = f"{redis_url}?prefix={redis_prefix}&timeout=10"
    obs_url = f"{redis_url}?prefix={redis_prefix}-obs&timeout=10"
    store = open_store(store_url)
    add_traffic(store, obs_url, 60)
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from routing_agent.cli import main; main()",
                "dashboard",
                "--config",
                str(cfg),
                "--store",
                store_url,
                "--observations",
                obs_url,
                "--port",
                str(port),
                *(["--poll"] if port == ports[1] else []),
            ],
            env={**os.environ, "ROUTING_AGENT_DASHBOARD_TOKEN": TOKEN},
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        with httpx.Client(timeout=30, follow_redirects=True) as client:
            for port in ports:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        client.get(f"http://127.0.0.1:{port}/healthz")
                        break
                    except httpx.TransportError:
                        assert time.monotonic() < deadline, f"dashboard on {port} did not come up"
                        time.sleep(0.2)
            first, second = (f"http://127.0.0.1:{p}" for p in ports)
            page = client.get(first + "/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf is not None
            r = client.post(first + "/login", data={"csrf": csrf.group(1), "name": "erin", "token": TOKEN})
            assert r.status_code == 200 and "signed in as <b>erin</b>" in r.text
            r = client.post(
                second + f"/experiments/{EXPERIMENT}/actions/pause",
                data={"csrf": csrf.group(1), "reason": "hold", "confirm": "yes"},
            )
            assert r.status_code == 200 and "pause: applied" in r.text
            assert 'data-state="paused"' in client.get(first + f"/experiments/{EXPERIMENT}").text
            # the first process pushes live updates by server-sent events; the second (--poll) only polls
            assert 'data-events="/events"' in client.get(first + "/").text
            assert "data-events" not in client.get(second + "/").text
            assert client.get(second + "/events").status_code == 404
        state = store.get_state(EXPERIMENT)
        assert state is not None and (state.status, state.actor, state.reason) == (S.PAUSED, "erin", "hold")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        store.close()
