"""Dashboard test support: a real experiment config, real stores with traffic, and a signed-in client."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.dashboard import Board, DashboardSettings, create_app
from routing_agent.stores.assignments import AssignmentStore, open_store
from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.open import open_observation_store

TOKEN = "test-token-0123456789abcdef"
EXPERIMENT = "better"

CONFIG: dict[str, Any] = {
    "default_model": {"model": "echo:default-model"},
    "experiments": [
        {
            "id": EXPERIMENT,
            "review": "required",
            "variants": [
                {"name": "control", "model": "echo:control-model", "control": True},
                {"name": "candidate", "model": "echo:candidate-model"},
            ],
            "primary_metric": {"name": "resolved", "kind": "binary", "mde": 0.03, "baseline": 0.8},
            "guardrails": [
                {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3, "min_sample": 50}
            ],
        }
    ],
}


def config() -> ExperimentsConfig:
    return ExperimentsConfig.model_validate(CONFIG)


def add_traffic(
    store: AssignmentStore, obs_url: str, n: int, *, start: int = 0, p: tuple[float, float] = (0.8, 0.86),
    slow: float = 1.0, seed: int = 0,
) -> None:  # fmt: skip
    """``n`` units per arm: assignments in ``store`` and resolved/latency observations in ``obs_url``.

    Odd units are ``tier=pro``, even ones ``tier=free`` (the segment the page offers to ship to).
    """
    rng = np.random.default_rng(seed)
    obs = open_observation_store(obs_url)
    rows = []
    for variant, rate, scale in (("control", p[0], 1.0), ("candidate", p[1], slow)):
        for i in range(start, start + n):
            unit, seg = f"{variant}-{i}", {"tier": "pro" if i % 2 else "free"}
            store.get_or_set(EXPERIMENT, unit, variant)
            resolved = float(rng.random() < rate)
            rows.append(Observation(EXPERIMENT, variant, unit, "resolved", resolved, segments=seg))
            latency, ttft = float(rng.gamma(4, 0.25)) * scale, float(rng.gamma(4, 0.05)) * scale
            rows.append(Observation(EXPERIMENT, variant, unit, "latency_s", latency, segments=seg))
            rows.append(Observation(EXPERIMENT, variant, unit, "ttft_s", ttft, segments=seg))
    obs.add(rows)
    obs.close()


def config_with(**changes: Any) -> ExperimentsConfig:
    """The config with the experiment's fields changed (e.g. ``review="none"``)."""
    (exp,) = CONFIG["experiments"]
    return ExperimentsConfig.model_validate({**CONFIG, "experiments": [{**exp, **changes}]})


def make_app(
    store_url: str, obs_url: str, *, token: str | None = TOKEN, read_only: bool = False,
    cfg: ExperimentsConfig | None = None, **settings: Any,
) -> Starlette:  # fmt: skip
    """The dashboard app over its own store clients (one dashboard process)."""
    board = Board(cfg or config(), open_store(store_url), open_observation_store(obs_url), refresh_s=0.0)
    return create_app(board, DashboardSettings(token=token, read_only=read_only, **settings))


def make_client(
    store_url: str, obs_url: str, *, token: str | None = TOKEN, read_only: bool = False,
    cfg: ExperimentsConfig | None = None,
) -> TestClient:  # fmt: skip
    app = make_app(store_url, obs_url, token=token, read_only=read_only, cfg=cfg)
    return TestClient(app, base_url="http://127.0.0.1:8050", raise_server_exceptions=False)


def csrf_of(client: TestClient) -> str:
    """Load a page (sets the CSRF cookie) and return the form's CSRF value."""
    page = client.get("/login").text
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None, page
    return match.group(1)


def sign_in(client: TestClient, name: str = "alice", token: str = TOKEN) -> str:
    csrf = csrf_of(client)
    r = client.post("/login", data={"csrf": csrf, "name": name, "token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def served(app: Starlette) -> Iterator[str]:
    """``app`` under a real uvicorn server in a thread (one dashboard process); yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "uvicorn did not stop"


class EventStream:
    """A client of a ``text/event-stream`` URL: reads ``(event, data)`` pairs as the server sends them."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self._context = client.stream("GET", url, headers={"Accept": "text/event-stream"})
        self.response = self._context.__enter__()
        self._lines = self.response.iter_lines()

    def next(self) -> tuple[str, str]:
        event, data = "message", []
        for line in self._lines:
            if not line:
                if data:
                    return event, "\n".join(data)
                event = "message"
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
        raise AssertionError("the event stream ended")

    def update_where(self, predicate: Callable[[str], bool], timeout: float, what: str) -> str:
        """The first ``update`` event whose HTML satisfies ``predicate`` within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            event, data = self.next()
            if event == "update":
                last = data
                if predicate(data):
                    return data
        raise AssertionError(f"no update within {timeout:.0f} s: {what} (last: {last[:800]})")

    def close(self) -> None:
        self._context.__exit__(None, None, None)
