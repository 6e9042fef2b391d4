"""Acceptance: real headless Chromium against ``routing-agent dashboard`` while a workflow sends traffic.

Real pieces end to end: the dashboard is the CLI command in its own process (uvicorn) over SQLite stores; a
real LangGraph graph (``RoutingNode`` + three agents) serves sessions in a thread and records each session's
outcome and latency; two ``Watcher`` loops (built-in evaluator) act on two experiments — ``latency`` (the
candidate on the drafter is 2.5× slower: the p95 guardrail breaches and watch rolls back) and ``quality``
(the candidate on the classifier resolves more: with ``review: required`` watch queues a review). In the
browser a person signs in, watches the progress bars advance (pushed by server-sent events), sees the breach
and the rollback, approves the review on the page, and the running graph then sends everyone to the winner.
Screenshots are saved (``$RA_DASHBOARD_ARTIFACTS`` or the test's tmp folder) and their plots checked.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from routing_agent.assignment.types import Reason
from routing_agent.config.loader import load_experiments
from routing_agent.control.watch import Watcher, WatchSettings
from routing_agent.evaluation.watching import WatchEvaluator
from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.open import open_observation_store
from tests.graph.conftest import build_graph
from tests.support.browser import browser, ink

TOKEN = "browser-token-0123456789abcdef"
LIVE = "document.getElementById('live')"
TIMEOUT_S = 240  # traffic + evaluations on a busy 2-core box; each wait ends as soon as the page shows it

CONFIG = {
    "default_model": {"model": "echo:default-model"},
    "experiments": [
        {
            "id": "quality",
            "scope": ["classifier"],
            "review": "required",
            "variants": [
                {"name": "control", "model": "echo:control-model", "control": True},
                {"name": "candidate", "model": "echo:candidate-model"},
            ],
            "primary_metric": {"name": "resolved", "kind": "binary", "mde": 0.1, "baseline": 0.6},
        },
        {
            "id": "latency",
            "scope": ["drafter"],
            "variants": [
                {"name": "control", "model": "echo:control-model", "control": True},
                {"name": "candidate", "model": "echo:candidate-model"},
            ],
            "primary_metric": {"name": "resolved", "kind": "binary", "mde": 0.1, "baseline": 0.6},
            "guardrails": [
                {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3, "min_sample": 60}
            ],
        },
    ],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(graph: Any, obs_url: str, stop: threading.Event, routed: list[dict[str, Any]]) -> None:
    """Sessions in small batches until ``stop``; each records resolved (both experiments) and latency."""
    rng = np.random.default_rng(11)
    obs = open_observation_store(obs_url)
    i = 0
    try:
        while not stop.is_set():
            rows = []
            for _ in range(10):
                sid = f"s-{i}"
                i += 1
                out = graph.invoke({"session_id": sid, "tier": "pro", "seen": []})
                r = out["routing"]
                routed.append({"session": sid, **{k: (v["variant"], v["reason"]) for k, v in r.items()}})
                q, lat = r["quality"]["variant"], r["latency"]["variant"]
                p_resolved = 0.9 if q == "candidate" else 0.6
                rows += [
                    Observation("quality", q, sid, "resolved", float(rng.random() < p_resolved)),
                    Observation("latency", lat, sid, "resolved", float(rng.random() < 0.6)),
                    Observation("latency", lat, sid, "latency_s",
                                float(rng.gamma(4, 0.25)) * (2.5 if lat == "candidate" else 1.0)),
                ]  # fmt: skip
            obs.add(rows)
            stop.wait(0.05)
    finally:
        obs.close()


def _watch(spec: Any, store_url: str, obs_url: str, stop: threading.Event) -> None:
    store, obs = open_store(store_url), open_observation_store(obs_url)
    try:
        Watcher(spec, store, WatchEvaluator(obs, store), WatchSettings(every_s=0.5)).run(stop=stop)
    finally:
        obs.close()
        store.close()


def _check_plots(
    name: str, png: bytes, shot: np.ndarray, boxes: list[dict[str, Any]], out: Path
) -> list[str]:
    (out / f"{name}.png").write_bytes(png)
    ids = []
    for fig in boxes:
        x, y, w, h = (int(fig[k]) for k in ("x", "y", "w", "h"))
        assert w > 300 and h > 80, fig
        share, colours = ink(shot[y : y + h, x : x + w])
        assert 0.01 < share < 0.6, (name, fig["id"], share)  # drawn: not blank, not a solid block
        assert colours >= 2, (name, fig["id"], colours)
        ids.append(fig["id"])
    return ids


def test_dashboard_in_chromium_while_traffic_runs(tmp_path: Path) -> None:
    out = Path(os.environ.get("RA_DASHBOARD_ARTIFACTS") or tmp_path / "artifacts")
    out.mkdir(parents=True, exist_ok=True)
    cfg_path = tmp_path / "experiments.yaml"
    cfg_path.write_text(yaml.safe_dump(CONFIG))
    config = load_experiments(cfg_path)
    store_url, obs_url = str(tmp_path / "state.db"), str(tmp_path / "obs.db")
    open_store(store_url).close()
    open_observation_store(obs_url).close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-c", "from routing_agent.cli import main; main()", "dashboard",
         "--config", str(cfg_path), "--store", store_url, "--observations", obs_url,
         "--port", str(port), "--refresh", "0.5"],
        env={**os.environ, "ROUTING_AGENT_DASHBOARD_TOKEN": TOKEN}, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stop, routed = threading.Event(), []
    graph, node = build_graph(config, open_store(store_url), state_refresh_s=0.2)
    threads = [
        threading.Thread(target=_serve, args=(graph, obs_url, stop, routed)),
        *(threading.Thread(target=_watch, args=(s, store_url, obs_url, stop)) for s in config.experiments),
    ]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the dashboard did not come up within 60 s"
                time.sleep(0.2)
        for t in threads:
            t.start()
        with browser() as page:
            page.goto(base + "/login")
            page.js("document.querySelector('input[name=name]').value = 'carol'")
            page.js(f"document.querySelector('input[name=token]').value = '{TOKEN}'")
            page.submit("#signin")
            assert "signed in as" in page.js("document.querySelector('nav').innerText")

            # experiments page: the progress bars advance, pushed by server-sent events (no reload)
            units = "+document.querySelector('[data-experiment=quality] tr.arm').dataset.units"
            first = page.wait_until(f"{units} > 0 && {units}", 60, "traffic shows on the experiments page")
            for _ in range(2):  # twice: each advance arrives as a pushed event
                first = page.wait_until(
                    f"{units} > {first} && {LIVE}.dataset.via === 'sse' && {units}", 60,
                    "the progress bar advances through the event stream",
                )  # fmt: skip
            assert page.js("document.querySelectorAll('.bar .fill').length") >= 2

            # the guardrail breach shows, and watch rolls the experiment back
            page.goto(base + "/experiments/latency")
            page.wait_until(
                "document.querySelector('h1 [data-state]').dataset.state === 'rolled_back'", TIMEOUT_S,
                "the latency experiment is rolled back",
            )  # fmt: skip
            page.wait_until(
                "!!document.querySelector('.light.red[data-status=breached]')", 30, "a red guardrail light"
            )
            assert "rolled_back" in page.js("document.querySelector('#audit').innerText")
            assert "ROLL BACK" in page.js("document.querySelector('.decision').innerText")
            png, shot, boxes = page.screenshot()
            assert "chart-latency" in _check_plots("latency-rolled-back", png, shot, boxes, out)

            # a pending review is approved on the page
            page.goto(base + "/experiments/quality")
            page.wait_until("!!document.querySelector('tr.review a.approve')", TIMEOUT_S, "a pending review")
            png, shot, boxes = page.screenshot()
            ids = _check_plots("quality-review-pending", png, shot, boxes, out)
            assert {"chart-effect", "chart-pvalue", "chart-sample"} <= set(ids), ids
            page.submit("tr.review a.approve")
            assert "Approve shipping 'candidate'" in page.js("document.body.innerText")
            page.js("document.querySelector('input[name=note]').value = 'clearly better'")
            page.submit("#confirm")
            text = page.js("document.body.innerText")
            assert "approved by carol" in text, text[:1000]
            page.wait_until(
                "document.querySelector('h1 [data-state]').dataset.state === 'shipped'", 30, "shipped state"
            )
            assert page.errors() == []

        # the running graph routes accordingly: new sessions get the winner (quality) and control (latency)
        seen = len(routed)
        deadline = time.monotonic() + 60
        while len(routed) < seen + 40 and time.monotonic() < deadline:
            time.sleep(0.1)
        later = routed[seen + 10 :]  # after the routing node's state refresh
        assert len(later) >= 20
        assert {r["quality"] for r in later} == {("candidate", Reason.SHIPPED.value)}
        assert {r["latency"] for r in later} == {("control", Reason.ROLLED_BACK.value)}
        store = open_store(store_url)
        state = store.get_state("quality")
        assert state is not None and (state.actor, state.winner) == ("carol", "candidate")
        assert "clearly better" in (state.reason or "")
        store.close()
    finally:
        stop.set()
        for t in threads:
            if t.is_alive() or t.ident is not None:
                t.join(timeout=30)
        node.close()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()
