"""Reading a dashboard request: bounded forms, text fields, refusals as 4xx, and the response headers.

Everything a handler refuses is a ``Refused`` (status and one sentence) that the app turns into a short page
or JSON answer — never a traceback.
"""

from __future__ import annotations

__all__ = [
    "HEADERS",
    "MAX_BODY",
    "MAX_TEXT",
    "Refused",
    "fresh_csrf",
    "read_form",
    "same_text",
    "text_field",
    "thread",
]

import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from routing_agent.dashboard.security import new_csrf

MAX_BODY = 16_384
MAX_TEXT = 500

HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
}
"""Headers of every page: no caching, no framing, nothing loaded from another origin."""


class Refused(Exception):
    """A request the dashboard refuses: the HTTP status and one sentence saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_form(request: Request) -> dict[str, str]:
    """The url-encoded form of a POST (at most ``MAX_BODY`` bytes of UTF-8), or ``Refused``."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        raise Refused(413, f"the form is larger than {MAX_BODY} bytes")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Refused(413, f"the form is larger than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the form is not UTF-8 text") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def text_field(fields: dict[str, str], name: str, *, required: bool) -> str:
    """A free-text field (reason, note, name), stripped; ``Refused`` when missing or too long."""
    value = fields.get(name, "").strip()
    if required and not value:
        raise Refused(400, f"a {name} is required: it is recorded in the experiment's history")
    if len(value) > MAX_TEXT:
        raise Refused(400, f"the {name} is longer than {MAX_TEXT} characters")
    return value


def same_text(a: str, b: str) -> bool:
    """Constant-time equality of two strings (token checks)."""
    return hmac.compare_digest(a.encode(), b.encode())


def fresh_csrf(request: Request) -> str:
    """The CSRF value this response sets (one per request, when the browser has none yet)."""
    if not hasattr(request.state, "new_csrf"):
        request.state.new_csrf = new_csrf()
    value: str = request.state.new_csrf
    return value


async def thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` (store reads and writes) in the worker pool, off the event loop."""
    return await run_in_threadpool(fn)
