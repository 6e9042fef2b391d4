"""Live updates by server-sent events, across dashboard processes, on every store backend.

Two dashboards (each its own app, store clients and real uvicorn server) over one SQLite, Redis or Redis
Cluster store: both push the page as traffic arrives (the units assigned advance), and a ship to a segment
made through one is pushed by both — the state comes from the store, not from the process that acted.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
from starlette.testclient import TestClient

from routing_agent.dashboard.live import sse_event
from routing_agent.stores.assignments import open_store
from tests.dashboard.support import (
    EXPERIMENT,
    TOKEN,
    EventStream,
    add_traffic,
    config_with,
    make_app,
    served,
)

LIVE_S = 0.5
WAIT_S = 90  # renders on a busy 2-core box; each wait ends as soon as the update arrives


def _units(html: str) -> int:
    return sum(int(u) for u in re.findall(r'data-variant="\w+" data-units="(\d+)"', html))


def _healthz_streams(client: httpx.Client, base: str) -> int:
    streams: int = client.get(base + "/healthz").json()["streams"]
    return streams


def test_two_dashboards_push_the_same_live_page(urls: tuple[str, str]) -> None:
    store_url, obs_url = urls
    store = open_store(store_url)
    add_traffic(store, obs_url, 30)
    cfg = config_with(review="none")
    apps = [make_app(store_url, obs_url, cfg=cfg, live_every_s=LIVE_S) for _ in range(2)]
    with served(apps[0]) as one, served(apps[1]) as two, httpx.Client(timeout=60) as client:
        streams = [EventStream(client, base + f"/experiments/{EXPERIMENT}/events") for base in (one, two)]
        try:
            for s in streams:
                assert s.response.headers["content-type"].startswith("text/event-stream")
                assert s.response.headers["cache-control"] == "no-store"
                first = s.update_where(lambda h: _units(h) > 0, WAIT_S, "the first render")
                assert _units(first) == 60  # 30 units per arm
            assert [_healthz_streams(client, b) for b in (one, two)] == [1, 1]

            add_traffic(store, obs_url, 20, start=30, seed=1)  # traffic arrives: both pages advance
            for s in streams:
                s.update_where(lambda h: _units(h) == 100, WAIT_S, "the units assigned advance to 50 per arm")

            # a person signs in on one process and ships to a segment through the other
            found = re.search(r'name="csrf" value="([^"]+)"', client.get(one + "/login").text)
            assert found is not None
            csrf = found.group(1)
            r = client.post(one + "/login", data={"csrf": csrf, "name": "fay", "token": TOKEN})
            assert r.status_code == 303, r.text[:300]
            r = client.post(
                two + f"/experiments/{EXPERIMENT}/actions/ship",
                data={"csrf": csrf, "winner": "candidate", "segment": '{"tier":["pro"]}', "reason": "pro",
                      "confirm": "yes"},
            )  # fmt: skip
            assert r.status_code == 303, r.text[:300]
            for s in streams:
                shipped = s.update_where(lambda h: 'data-state="shipped"' in h, WAIT_S, "the ship is pushed")
                assert "candidate to tier=pro" in shipped and "fay" in shipped
        finally:
            for s in streams:
                s.close()
        deadline = time.monotonic() + 30  # a client that leaves frees its stream
        while any(_healthz_streams(client, b) for b in (one, two)):
            assert time.monotonic() < deadline, "closed streams were not released"
            time.sleep(0.1)
    state = store.get_state(EXPERIMENT)
    assert state is not None and state.actor == "fay" and state.evidence["ship_segment"] == {"tier": ["pro"]}
    store.close()


def test_the_stream_limit_and_poll_only_mode(tmp_path: Path) -> None:
    store_url, obs_url = str(tmp_path / "state.db"), str(tmp_path / "obs.db")
    store = open_store(store_url)
    add_traffic(store, obs_url, 10)
    store.close()
    limited = make_app(store_url, obs_url, live_every_s=LIVE_S, max_streams=1)
    with served(limited) as base, httpx.Client(timeout=60) as client:
        page = client.get(base + "/").text
        assert 'data-events="/events"' in page and 'data-live="/?fragment=1"' in page
        first = EventStream(client, base + "/events")
        try:
            event, html = first.next()
            assert event == "update" and 'data-experiment="better"' in html
            second = client.get(base + f"/experiments/{EXPERIMENT}/events")  # over the limit: the page polls
            assert second.status_code == 503 and "polls instead" in second.text
            assert first.next()[0] == "alive"  # nothing changed: a heartbeat keeps the page on the stream
        finally:
            first.close()
    poll_only = TestClient(make_app(store_url, obs_url, events=False), raise_server_exceptions=False)
    page = poll_only.get(f"/experiments/{EXPERIMENT}").text
    assert "data-events" not in page and f'data-live="/experiments/{EXPERIMENT}?fragment=1"' in page
    r = poll_only.get("/events")
    assert r.status_code == 404 and "the pages poll" in r.text


def test_events_carry_multi_line_html_intact() -> None:
    text = sse_event("update", "<p>a</p>\n<p>b</p>\r\n<svg>\r</svg>")
    assert text == "event: update\ndata: <p>a</p>\ndata: <p>b</p>\ndata: <svg>\ndata: </svg>\n\n"
