"""Live updates by server-sent events: a page's ``main`` region re-rendered from the stores and pushed.

Each stream re-renders its region every ``every_s`` seconds (in a worker thread: renders read the stores)
and sends ``event: update`` with the HTML when it changed, else a small ``event: alive`` heartbeat, so the
page's script knows the stream is healthy and falls back to polling the ``?fragment=1`` URL when it is not
(a proxy that buffers ``text/event-stream``, a stream limit reached, a network error). State comes from the
shared store on every render, so several dashboard processes behind one address push the same page.

A stream ends after ``max_s`` seconds (the browser reconnects by itself) or when the client goes away;
at most ``max_streams`` are open per process — beyond that the answer is 503 and the page polls.
"""

from __future__ import annotations

__all__ = ["EventStreams", "sse_event"]

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
    "X-Content-Type-Options": "nosniff",
}


def sse_event(event: str, data: str) -> str:
    """One server-sent event: every line of ``data`` (any line ending) as its own ``data:`` field."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


class EventStreams:
    """Opens and counts the event streams of one dashboard process.

    Args:
        every_s: seconds between renders of a stream.
        max_s: a stream's lifetime; the browser's ``EventSource`` reconnects after it ends.
        max_streams: open streams allowed at once in this process.
    """

    def __init__(self, every_s: float, *, max_s: float = 600.0, max_streams: int = 64) -> None:
        self.every_s = every_s
        self.max_s = max_s
        self.max_streams = max_streams
        self._open = 0
        self._lock = threading.Lock()

    @property
    def open(self) -> int:
        """Streams open now."""
        return self._open

    def response(self, render: Callable[[], str]) -> StreamingResponse | None:
        """The ``text/event-stream`` response pushing ``render()``; None when the stream limit is reached."""
        with self._lock:
            if self._open >= self.max_streams:
                return None
            self._open += 1
        return _Stream(self._events(render), self._release)

    def _release(self) -> None:
        with self._lock:
            self._open -= 1

    async def _events(self, render: Callable[[], str]) -> AsyncIterator[str]:
        yield f"retry: {int(1000 * max(1.0, self.every_s))}\n\n"
        last: str | None = None
        end = time.monotonic() + self.max_s
        while time.monotonic() < end:  # a client that goes away cancels the response (Starlette)
            body = await run_in_threadpool(render)
            if body != last:
                yield sse_event("update", body)
                last = body
            else:
                yield sse_event("alive", str(int(time.time())))
            await asyncio.sleep(self.every_s)


class _Stream(StreamingResponse):
    """A stream that closes its generator and releases its slot however it ends (done, cancelled, error)."""

    def __init__(self, events: AsyncIterator[str], release: Callable[[], Any]) -> None:
        super().__init__(events, media_type="text/event-stream", headers=_HEADERS)
        self._events = events
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                aclose = getattr(self._events, "aclose", None)
                if aclose is not None:
                    await aclose()
            finally:
                self._release()
