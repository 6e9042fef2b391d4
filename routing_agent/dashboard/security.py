"""Who may change state: the dashboard token, signed sign-in cookies, and CSRF double-submit checks.

Stateless by design, so several dashboard processes behind one address accept each other's cookies: a
sign-in cookie is ``<name>.<HMAC(token, name)>`` and the CSRF cookie is a random value every form echoes
back (with ``SameSite=Strict`` cookies and an ``Origin`` check on top).
"""

from __future__ import annotations

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "SESSION_MAX_AGE_S",
    "TOKEN_ENV",
    "csrf_ok",
    "load_token",
    "new_csrf",
    "read_session",
    "same_origin",
    "session_value",
]

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

TOKEN_ENV = "ROUTING_AGENT_DASHBOARD_TOKEN"
SESSION_COOKIE = "ra_session"
CSRF_COOKIE = "ra_csrf"
_MIN_TOKEN = 16
SESSION_MAX_AGE_S = 12 * 3600
"""A sign-in lasts this long; then the person signs in again (a stolen cookie expires too)."""


def load_token(token_file: Path | None = None, env: str = TOKEN_ENV) -> str | None:
    """The action token: from ``token_file`` when given, else ``$ROUTING_AGENT_DASHBOARD_TOKEN``.

    Raises ``ValueError`` for an unreadable file or a token shorter than 16 characters.
    """
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read the dashboard token file '{token_file}': {exc.strerror}") from None
        where = f"the token file '{token_file}'"
    else:
        token = os.environ.get(env, "").strip()
        where = f"${env}"
        if not token:
            return None
    if len(token) < _MIN_TOKEN:
        raise ValueError(
            f"{where} holds a token of {len(token)} characters; use at least {_MIN_TOKEN} "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    return token


def _mac(token: str, message: str) -> str:
    return hmac.new(token.encode(), b"ra-dashboard-session:" + message.encode(), hashlib.sha256).hexdigest()


def _signed(name: str, issued: int) -> str:
    return f"{name}\n{issued}"


def session_value(token: str, name: str, *, now: float | None = None) -> str:
    """The sign-in cookie for ``name``: the name (base64), its issue time, and their HMAC under the token."""
    issued = int(time.time() if now is None else now)
    encoded = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
    return f"{encoded}.{issued}.{_mac(token, _signed(name, issued))}"


def read_session(token: str | None, cookie: str | None, *, now: float | None = None) -> str | None:
    """The signed-in name; None when the cookie is missing, forged, expired or signed with another token."""
    if not token or not cookie or cookie.count(".") != 2:
        return None
    encoded, issued_text, mac = cookie.split(".")
    try:
        name = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        issued = int(issued_text)
    except (ValueError, UnicodeDecodeError):
        return None
    if not name or not hmac.compare_digest(mac, _mac(token, _signed(name, issued))):
        return None
    age = (time.time() if now is None else now) - issued
    return name if -60 <= age <= SESSION_MAX_AGE_S else None


def new_csrf() -> str:
    """A fresh CSRF value (the cookie every form echoes in its ``csrf`` field)."""
    return secrets.token_urlsafe(24)


def csrf_ok(cookie: str | None, submitted: str | None) -> bool:
    """Whether the form's ``csrf`` field matches the cookie (constant-time)."""
    return bool(cookie) and bool(submitted) and hmac.compare_digest(str(cookie), str(submitted))


def same_origin(origin: str | None, host: str | None) -> bool:
    """Whether a request's ``Origin`` (when the browser sent one) names this server's ``Host``."""
    if not origin:
        return True  # non-browser clients; the CSRF field still has to match
    if origin == "null" or not host:
        return False
    return origin.split("://", 1)[-1].rstrip("/") == host
