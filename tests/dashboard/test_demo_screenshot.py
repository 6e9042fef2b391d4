"""The README's screenshot: the experiment page of ``routing-agent demo``'s data in headless Chromium.

Runs the demo (fewer sessions), serves ``routing-agent dashboard`` on its stores read-only, and checks that
the experiment page renders its plots (non-blank regions) without console errors. With
``RA_DASHBOARD_SCREENSHOT=docs/dashboard.png`` the PNG is written there (how the README's image is made).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from rich.console import Console

from routing_agent.simulation.demo import RunSettings, demo
from routing_agent.workflows import get_workflow
from tests.support.browser import browser, ink


def test_demo_experiment_page_screenshot(tmp_path: Path) -> None:
    workdir = tmp_path / "routing-agent-demo"
    with open(os.devnull, "w") as quiet:
        demo(RunSettings(sessions=800, workers=4, workdir=workdir), console=Console(file=quiet))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", "from routing_agent.cli import main; main()", "dashboard", "--read-only",
         "--config", str(get_workflow("support").default_config),
         "--store", str(workdir / "assignments.sqlite3"),
         "--observations", str(workdir / "observations.sqlite3"), "--port", str(port)],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the dashboard did not come up"
                time.sleep(0.2)
        with browser() as page:
            page.goto(base + "/")
            assert page.js("document.querySelectorAll('.card').length") >= 1
            href = page.js("document.querySelector('.card h2 a').getAttribute('href')")
            page.goto(base + href)
            png, shot, boxes = page.screenshot()
            assert page.errors() == []
        ids = [b["id"] for b in boxes]
        assert {"chart-effect", "chart-sample", "chart-latency"} <= set(ids), ids
        for fig in boxes:
            x, y, w, h = (int(fig[k]) for k in ("x", "y", "w", "h"))
            share, colours = ink(shot[y : y + h, x : x + w])
            assert 0.01 < share < 0.6 and colours >= 2, (fig["id"], share, colours)
        target = os.environ.get("RA_DASHBOARD_SCREENSHOT")
        (Path(target) if target else tmp_path / "dashboard.png").write_bytes(png)
    finally:
        server.terminate()
        server.wait(timeout=20)
