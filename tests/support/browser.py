"""Real headless Chromium over the DevTools protocol: one helper for the HTML report and the dashboard tests.

``browser()`` starts Debian's ``chromium`` (headless, throw-away profile, its own process group) and yields a
``Page``: navigate, run script, wait for the page's own updates, block URLs, take full-page screenshots.
``load_page`` opens one file and returns its console errors, figure boxes and screenshot. A missing browser
is a test failure with the install command, never a skip. Screenshots are decoded with Pillow.
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
from collections.abc import Iterator
from contextlib import contextmanager
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
WIDTH = 1280


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise AssertionError(
            "chromium is not on PATH: the browser tests need a real browser. Install Debian's package: "
            "apt-get install -y chromium (scripts/test.sh does this)"
        )
    return path


def decode_png(data: bytes) -> np.ndarray:
    """A PNG as an (height, width, 3) uint8 RGB array."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def ink(region: np.ndarray) -> tuple[float, int]:
    """Share of non-white pixels and the number of distinct strong colours in a screenshot region."""
    flat = region.reshape(-1, 3).astype(int)
    inked = (flat < 235).any(axis=1)
    strong = flat[(flat.max(axis=1) - flat.min(axis=1)) > 60] // 32
    return float(inked.mean()), len({tuple(c) for c in strong})


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


class Page:
    """One browser tab."""

    def __init__(self, cdp: _Cdp, width: int = WIDTH) -> None:
        self.cdp = cdp
        self.width = width
        for domain in ("Runtime", "Log", "Page"):
            cdp.call(f"{domain}.enable")

    def js(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page; its JSON-able value."""
        out = self.cdp.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in out:
            raise AssertionError(f"script failed: {out['exceptionDetails']}")
        return out["result"].get("value")

    def goto(self, url: str) -> None:
        self.cdp.events.clear()
        self.cdp.call("Page.navigate", url=url)
        self.cdp.wait_for("Page.loadEventFired")

    def submit(self, selector: str) -> None:
        """Click ``selector`` (a submit button or link) and wait for the next page to load."""
        self.cdp.events.clear()
        self.js(f"document.querySelector({json.dumps(selector)}).click()")
        self.cdp.wait_for("Page.loadEventFired")

    def block(self, *patterns: str) -> None:
        """Make requests to URLs matching ``patterns`` (``*`` wildcards) fail, as a broken proxy would."""
        self.cdp.call("Network.enable")
        self.cdp.call("Network.setBlockedURLs", urls=list(patterns))

    def wait_until(self, expression: str, timeout: float, what: str) -> Any:
        """Poll ``expression`` until truthy (the page's own live updates change the DOM)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(
            f"within {timeout:.0f} s: {what} (page: {self.js('document.body.innerText')[:1500]})"
        )

    def errors(self) -> list[str]:
        return _errors(self.cdp.events)

    def screenshot(self) -> tuple[bytes, np.ndarray, list[dict[str, Any]]]:
        """A full-page PNG, its pixels and every ``figure svg`` box in page coordinates."""
        boxes = self.js(
            "[...document.querySelectorAll('figure')].map(f => {const r = f.querySelector('svg')"
            ".getBoundingClientRect(); return {id: f.id, x: r.x + scrollX, y: r.y + scrollY, w: r.width,"
            " h: r.height};})"
        )
        height = int(self.js("document.documentElement.scrollHeight"))
        shot = self.cdp.call(
            "Page.captureScreenshot", format="png", captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1},
        )  # fmt: skip
        png = base64.b64decode(shot["data"])
        return png, decode_png(png), boxes


@contextmanager
def browser(width: int = WIDTH) -> Iterator[Page]:
    """A fresh headless Chromium with a throw-away profile; stopped (whole process group) afterwards."""
    profile = Path(tempfile.mkdtemp(prefix="ra-chromium-"))
    try:
        proc = subprocess.Popen(
            [chromium_path(), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
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
                target = next(t for t in json.load(r) if t["type"] == "page")
            with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=20) as ws:
                yield Page(_Cdp(ws), width)
        finally:
            _stop_group(proc)
    finally:
        _remove_profile(profile)


@dataclass
class PageResult:
    console_errors: list[str] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    page_height: int = 0
    png: bytes = b""


def load_page(html: Path, *, width: int = 1200) -> PageResult:
    """Open ``html`` in headless Chromium; console errors, every ``figure svg`` box, a full-page PNG."""
    with browser(width) as page:
        page.goto(html.resolve().as_uri())
        page.cdp.drain(1.0)  # late console messages
        png, _, boxes = page.screenshot()
        height = int(page.js("document.documentElement.scrollHeight"))
        return PageResult(page.errors(), boxes, height, png)


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
