"""Real headless Chromium over the DevTools protocol: load a page, collect console errors, screenshot.

``chromium`` must be on PATH (Debian's ``chromium`` package; ``scripts/test.sh`` installs it). A missing
browser is a test failure with the install command, never a skip. Screenshots are decoded with Pillow.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from websockets.sync.client import connect

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise AssertionError(
            "chromium is not on PATH: the HTML report test needs a real browser. Install Debian's package: "
            "apt-get install -y chromium (scripts/test.sh does this)"
        )
    return path


@dataclass
class PageResult:
    console_errors: list[str] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    page_height: int = 0
    png: bytes = b""


def decode_png(data: bytes) -> np.ndarray:
    """A PNG as an (height, width, 3) uint8 RGB array."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


class _Cdp:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == method for e in self.events):
            return
        while time.monotonic() < deadline:
            try:
                msg = json.loads(self.ws.recv(timeout=max(0.05, deadline - time.monotonic())))
            except TimeoutError:
                break
            self.events.append(msg)
            if msg.get("method") == method:
                return
        raise AssertionError(f"no {method} within {timeout} s")

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return


def _errors(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = p.get("exceptionDetails", {})
            described = details.get("exception", {}).get("description") or details.get("text", "")
            out.append("exception: " + str(described)[:300])
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console.error: " + json.dumps(p.get("args", []))[:300])
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append("log: " + p["entry"].get("text", "")[:300])
    return out


def load_page(html: Path, *, width: int = 1200) -> PageResult:
    """Open ``html`` in headless Chromium; console errors, every ``figure svg`` box, a full-page PNG."""
    binary = chromium_path()
    profile = Path(tempfile.mkdtemp(prefix="ra-chromium-"))
    try:
        proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             f"--window-size={width},900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True,  # its own process group: the renderer and helpers are stopped with it
        )  # fmt: skip
        try:
            assert proc.stderr is not None
            port = None
            deadline = time.monotonic() + 60
            while port is None and time.monotonic() < deadline:
                line = proc.stderr.readline()
                if not line and proc.poll() is not None:
                    raise AssertionError(f"chromium exited with {proc.returncode} before DevTools was up")
                match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
                port = int(match.group(1)) if match else None
            assert port is not None, "chromium did not open its DevTools port"
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=20) as r:
                targets = json.load(r)
            page = next(t for t in targets if t["type"] == "page")
            with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=20) as ws:
                return _visit(_Cdp(ws), html, width)
        finally:
            _stop_group(proc)
    finally:
        _remove_profile(profile)


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """Stop Chromium and every process of its group (helpers outlive the main process by a moment)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    deadline = time.monotonic() + 10.0
    while _group_has_live_member(proc.pid) and time.monotonic() < deadline:  # zombies write nothing
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(0.02)
    proc.wait(timeout=10)
    if proc.stderr is not None:
        proc.stderr.close()


def _group_has_live_member(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still running (not a zombie), from ``/proc``."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _remove_profile(profile: Path) -> None:
    """Delete the throw-away profile; a helper still flushing into it gets a few retries."""
    for _ in range(20):
        try:
            shutil.rmtree(profile)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    shutil.rmtree(profile, ignore_errors=True)


def _visit(cdp: _Cdp, html: Path, width: int) -> PageResult:
    """Enable the domains, load the page, read the chart boxes, take a full-page screenshot."""
    for domain in ("Runtime", "Log", "Page"):
        cdp.call(f"{domain}.enable")
    cdp.call("Page.navigate", url=html.resolve().as_uri())
    cdp.wait_for("Page.loadEventFired")
    cdp.drain(1.0)  # late console messages
    script = (
        "JSON.stringify({h: document.documentElement.scrollHeight, "
        "figs: [...document.querySelectorAll('figure')].map(f => {"
        "const r = f.querySelector('svg').getBoundingClientRect(); "
        "return {id: f.id, x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height};})})"
    )
    value = json.loads(cdp.call("Runtime.evaluate", expression=script)["result"]["value"])
    height = int(value["h"])
    shot = cdp.call(
        "Page.captureScreenshot", format="png", captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    )  # fmt: skip
    return PageResult(_errors(cdp.events), value["figs"], height, base64.b64decode(shot["data"]))
