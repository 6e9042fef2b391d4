"""Acceptance: ship to a segment in real Chromium while a LangGraph graph serves traffic.

The dashboard is the CLI command in its own process over SQLite stores; a real graph (``RoutingNode`` + three
agents, the drafter in the experiment) serves sessions of ``tier=pro`` and ``tier=free`` users in a thread
and records their outcomes with the tier as segment. The browser's event stream is blocked (a proxy that
breaks ``text/event-stream``): the page falls back to polling and the progress bars still advance. A person
signs in, picks ``tier=pro`` in the page's "ship to a segment" form, confirms — the experiment has ``review:
required``, so a review is queued — and approves it. Afterwards the running graph sends pro users to the
candidate and free users to control.
"""

from __future__ import annotations

import os
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
from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.open import open_observation_store
from tests.dashboard.support import free_port
from tests.graph.conftest import build_graph
from tests.support.browser import browser

TOKEN = "segment-token-0123456789abcdef"
EXP = "tiers"
CONFIG = {
    "default_model": {"model": "echo:default-model"},
    "experiments": [
        {
            "id": EXP,
            "scope": ["drafter"],
            "review": "required",
            "segments": ["tier"],
            "variants": [
                {"name": "control", "model": "echo:control-model", "control": True},
                {"name": "candidate", "model": "echo:candidate-model"},
            ],
            "primary_metric": {"name": "resolved", "kind": "binary", "mde": 0.1, "baseline": 0.6},
        }
    ],
}
LIVE = "document.getElementById('live')"


def _serve(graph: Any, obs_url: str, stop: threading.Event, routed: list[dict[str, Any]]) -> None:
    """Sessions in small batches until ``stop``: odd ones are pro users, even ones free users."""
    rng = np.random.default_rng(5)
    obs = open_observation_store(obs_url)
    i = 0
    try:
        while not stop.is_set():
            rows = []
            for _ in range(10):
                sid, tier = f"s-{i}", ("pro" if i % 2 else "free")
                i += 1
                out = graph.invoke({"session_id": sid, "tier": tier, "seen": []})
                drafter = next(s for s in out["seen"] if s["agent"] == "drafter")
                routed.append({"tier": tier, "variant": drafter["variant"], "reason": drafter["reason"],
                               "answer": drafter["answer"]})  # fmt: skip
                rows.append(
                    Observation(EXP, drafter["variant"], sid, "resolved", float(rng.random() < 0.6),
                                segments={"tier": tier})
                )  # fmt: skip
            obs.add(rows)
            stop.wait(0.05)
    finally:
        obs.close()


def test_ship_to_a_segment_in_chromium_while_traffic_runs(tmp_path: Path) -> None:
    cfg_path = tmp_path / "experiments.yaml"
    cfg_path.write_text(yaml.safe_dump(CONFIG))
    config = load_experiments(cfg_path)
    store_url, obs_url = str(tmp_path / "state.db"), str(tmp_path / "obs.db")
    open_store(store_url).close()
    open_observation_store(obs_url).close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-c", "from routing_agent.cli import main; main()", "dashboard",
         "--config", str(cfg_path), "--store", store_url, "--observations", obs_url,
         "--port", str(port), "--refresh", "0.5"],
        env={**os.environ, "ROUTING_AGENT_DASHBOARD_TOKEN": TOKEN}, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stop, routed = threading.Event(), []
    graph, node = build_graph(config, open_store(store_url), state_refresh_s=0.2)
    serving = threading.Thread(target=_serve, args=(graph, obs_url, stop, routed))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the dashboard did not come up within 60 s"
                time.sleep(0.2)
        serving.start()
        with browser() as page:
            page.block("*/events")  # the event stream fails: the page must fall back to polling
            page.goto(base + "/login")
            page.js("document.querySelector('input[name=name]').value = 'gus'")
            page.js(f"document.querySelector('input[name=token]').value = '{TOKEN}'")
            page.submit("#signin")

            page.goto(base + f"/experiments/{EXP}")
            units = "+document.querySelector('tr.arm').dataset.units"
            first = page.wait_until(f"{units} > 0 && {units}", 60, "traffic shows on the page")
            page.wait_until(
                f"{units} > {first} && {LIVE}.dataset.via === 'poll'", 60, "the bars advance by polling"
            )
            box = "document.querySelector('input[name=segment][value=\"tier=pro\"]')"
            page.wait_until(f"!!{box}", 60, "the form offers tier=pro (observed in the data)")
            page.js(f"{box}.checked = true")
            page.js("document.querySelector('select[name=winner]').value = 'candidate'")
            page.submit("#ship-segment")
            text = page.js("document.body.innerText")
            assert "Ship 'candidate' to units with tier=pro" in text and "queues a review" in text, text[:800]
            page.js("document.querySelector('input[name=reason]').value = 'pro users resolve more'")
            page.submit("#confirm")
            text = page.js("document.body.innerText")
            assert "requested (review: required)" in text, text[:800]
            assert page.js("document.querySelector('h1 [data-state]').dataset.state") == "running"

            page.wait_until("!!document.querySelector('tr.review a.approve')", 30, "the queued review")
            assert "ship candidate to tier=pro" in page.js("document.querySelector('tr.review').innerText")
            page.submit("tr.review a.approve")
            assert "to units with tier=pro" in page.js("document.body.innerText")
            page.js("document.querySelector('input[name=note]').value = 'pro only'")
            page.submit("#confirm")
            assert "approved by gus" in page.js("document.body.innerText")
            state = page.wait_until(
                "document.querySelector('h1 [data-state]').innerText", 30, "the shipped state"
            )
            assert state.startswith("shipped") and "candidate" in state and "tier=pro" in state, state
            assert all("ERR_BLOCKED" in e or "/events" in e for e in page.errors()), page.errors()

        # the running graph follows: pro users get the candidate, free users stay on control
        seen = len(routed)
        deadline = time.monotonic() + 60
        while len(routed) < seen + 60 and time.monotonic() < deadline:
            time.sleep(0.1)
        later = routed[seen + 20 :]  # after the routing node's state refresh
        assert len(later) >= 20, len(later)
        for r in later:
            expected = "candidate" if r["tier"] == "pro" else "control"
            assert (r["variant"], r["reason"]) == (expected, Reason.SHIPPED.value), r
            assert r["answer"] == f"{expected}-model"
        assert {r["tier"] for r in later} == {"pro", "free"}
        store = open_store(store_url)
        shipped = store.get_state(EXP)
        store.close()
        assert shipped is not None and shipped.actor == "gus"
        assert shipped.evidence["ship_segment"] == {"tier": ["pro"]}
    finally:
        stop.set()
        if serving.ident is not None:
            serving.join(timeout=30)
        node.close()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()
