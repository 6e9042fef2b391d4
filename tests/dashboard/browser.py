"""A headless Chromium session driven over the DevTools protocol: navigate, run script, wait, screenshot.

Builds on ``tests.evaluation.browser`` (same binary, flags and teardown); a missing browser is a failure.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from websockets.sync.client import connect

from tests.evaluation.browser import (
    FLAGS,
    _Cdp,
    _errors,
    _remove_profile,
    _stop_group,
    chromium_path,
    decode_png,
)

WIDTH = 1280


class Page:
    """One browser tab."""

    def __init__(self, cdp: _Cdp) -> None:
        self.cdp = cdp
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
            clip={"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1},
        )  # fmt: skip
        png = base64.b64decode(shot["data"])
        return png, decode_png(png), boxes


@contextmanager
def browser() -> Iterator[Page]:
    """A fresh headless Chromium with a throw-away profile; stopped (whole process group) afterwards."""
    profile = Path(tempfile.mkdtemp(prefix="ra-chromium-"))
    proc = subprocess.Popen(
        [chromium_path(), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
         f"--window-size={WIDTH},900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
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
            yield Page(_Cdp(ws))
    finally:
        _stop_group(proc)
        _remove_profile(profile)


def ink(region: np.ndarray) -> tuple[float, int]:
    """Share of non-white pixels and the number of distinct strong colours in a screenshot region."""
    flat = region.reshape(-1, 3).astype(int)
    inked = (flat < 235).any(axis=1)
    strong = flat[(flat.max(axis=1) - flat.min(axis=1)) > 60] // 32
    return float(inked.mean()), len({tuple(c) for c in strong})
