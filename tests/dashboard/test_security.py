"""Security of the dashboard's state changes: token, CSRF, read-only mode, and clear 4xx answers.

Real SQLite stores and the real Starlette app (in-process client): every action is refused without a
signed-in token holder, with a bad or missing CSRF value, from another origin, and in read-only mode — and
nothing reaches the store's history when refused.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest

from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.review import ReviewQueue
from routing_agent.evaluation.decision import Decision, DecisionKind
from routing_agent.stores.assignments import open_store
from tests.dashboard.support import EXPERIMENT, TOKEN, add_traffic, config, csrf_of, make_client, sign_in

ACTIONS = [
    ("/experiments/better/actions/rollback", {"reason": "r", "confirm": "yes"}),
    ("/experiments/better/actions/pause", {"reason": "r", "confirm": "yes"}),
    ("/experiments/better/actions/resume", {"reason": "r", "confirm": "yes"}),
    ("/experiments/better/actions/stop", {"reason": "r", "confirm": "yes"}),
    ("/experiments/better/actions/ship", {"reason": "r", "confirm": "yes", "winner": "candidate"}),
    (
        "/experiments/better/actions/ship",
        {"reason": "r", "confirm": "yes", "winner": "candidate", "segment": '{"tier":["pro"]}'},
    ),
    ("/reviews/REVIEW/approve", {"note": "n", "confirm": "yes"}),
    ("/reviews/REVIEW/reject", {"note": "n", "confirm": "yes"}),
]


@pytest.fixture
def stores(tmp_path: Path) -> tuple[str, str, str]:
    """SQLite stores with traffic and one pending review; returns (store url, observation url, review id)."""
    store_url, obs_url = str(tmp_path / "state.db"), str(tmp_path / "obs.db")
    store = open_store(store_url)
    add_traffic(store, obs_url, 200)
    decision = Decision(EXPERIMENT, DecisionKind.SHIP, "candidate wins", winner="candidate")
    item, _ = ReviewQueue(store, config=config()).request(EXPERIMENT, decision, actor="watch@test")
    store.close()
    return store_url, obs_url, item.id


def _history(store_url: str) -> list[tuple[str, str]]:
    store = open_store(store_url)
    try:
        return [(s.status.value, s.actor) for s in store.history(EXPERIMENT)]
    finally:
        store.close()


def _actions(review_id: str) -> list[tuple[str, dict[str, str]]]:
    return [(path.replace("REVIEW", review_id), data) for path, data in ACTIONS]


def test_every_action_is_refused_without_signing_in(stores: tuple[str, str, str]) -> None:
    store_url, obs_url, review_id = stores
    client = make_client(store_url, obs_url)
    csrf = csrf_of(client)
    for path, data in _actions(review_id):
        r = client.post(path, data={**data, "csrf": csrf}, follow_redirects=False)
        assert r.status_code == 401, (path, r.status_code, r.text)
        assert "sign in" in r.text and "Traceback" not in r.text
    assert _history(store_url) == []


def test_a_wrong_token_does_not_sign_in(stores: tuple[str, str, str]) -> None:
    store_url, obs_url, _ = stores
    client = make_client(store_url, obs_url)
    csrf = csrf_of(client)
    r = client.post(
        "/login", data={"csrf": csrf, "name": "mallory", "token": "x" * 30}, follow_redirects=False
    )
    assert r.status_code == 401 and "wrong token" in r.text
    r = client.post(
        "/experiments/better/actions/rollback", data={"csrf": csrf, "reason": "r", "confirm": "yes"}
    )
    assert r.status_code == 401


def test_a_session_cookie_signed_with_another_token_is_refused(stores: tuple[str, str, str]) -> None:
    store_url, obs_url, _ = stores
    other = make_client(store_url, obs_url, token="another-token-0123456789")
    sign_in(other, token="another-token-0123456789")
    client = make_client(store_url, obs_url)
    csrf = csrf_of(client)
    client.cookies.set("ra_session", other.cookies["ra_session"])
    r = client.post(
        "/experiments/better/actions/rollback", data={"csrf": csrf, "reason": "r", "confirm": "yes"}
    )
    assert r.status_code == 401
    assert _history(store_url) == []


@pytest.mark.parametrize("bad", ["missing", "mismatch", "no-cookie", "foreign-origin"])
def test_csrf_is_rejected_for_every_action(stores: tuple[str, str, str], bad: str) -> None:
    store_url, obs_url, review_id = stores
    client = make_client(store_url, obs_url)
    csrf = sign_in(client)
    for path, data in _actions(review_id):
        form, headers = {**data, "csrf": csrf}, {}
        if bad == "missing":
            del form["csrf"]
        elif bad == "mismatch":
            form["csrf"] = "forged-" + csrf
        elif bad == "foreign-origin":
            headers["Origin"] = "http://evil.example"
        session = client.cookies["ra_session"]
        if bad == "no-cookie":
            client.cookies.clear()
            client.cookies.set("ra_session", session)
        r = client.post(path, data=form, headers=headers, follow_redirects=False)
        assert r.status_code == 403, (bad, path, r.status_code)
        assert "CSRF" in r.text
        if bad == "no-cookie":
            client.cookies.set("ra_csrf", csrf)
    assert _history(store_url) == []
    # the sign-in form is protected too (login CSRF)
    fresh = make_client(store_url, obs_url)
    r = fresh.post("/login", data={"csrf": "guess", "name": "a", "token": TOKEN}, follow_redirects=False)
    assert r.status_code == 403


@pytest.mark.parametrize("mode", ["read-only", "no-token"])
def test_read_only_mode_refuses_every_action_and_shows_none(stores: tuple[str, str, str], mode: str) -> None:
    store_url, obs_url, review_id = stores
    client = make_client(
        store_url, obs_url, read_only=mode == "read-only", token=None if mode == "no-token" else TOKEN
    )
    page = client.get("/experiments/better")
    assert page.status_code == 200 and "read-only" in page.text
    assert "/confirm?" not in page.text and "sign in" not in page.text  # no action links, no sign-in
    assert review_id in page.text  # the pending review is still shown
    csrf = csrf_of(client)
    for path, data in _actions(review_id):
        r = client.post(path, data={**data, "csrf": csrf}, follow_redirects=False)
        assert r.status_code == 403 and "read-only" in r.text, (path, r.status_code)
    assert client.get("/experiments/better/confirm?action=rollback").status_code == 403
    segment_confirm = "/experiments/better/confirm?action=ship&winner=candidate&segment=tier%3Dpro"
    assert client.get(segment_confirm).status_code == 403
    r = client.post("/login", data={"csrf": csrf, "name": "a", "token": TOKEN}, follow_redirects=False)
    assert r.status_code == 403
    assert _history(store_url) == []


def test_signed_in_actions_apply_with_the_acting_identity(stores: tuple[str, str, str]) -> None:
    store_url, obs_url, review_id = stores
    client = make_client(store_url, obs_url)
    csrf = sign_in(client, "bob")
    page = client.get("/experiments/better/confirm?action=pause")
    assert page.status_code == 200 and 'name="reason"' in page.text and 'id="confirm"' in page.text
    r = client.post(
        "/experiments/better/actions/pause", data={"csrf": csrf, "reason": "look", "confirm": "yes"}
    )
    assert r.status_code == 200 and "pause: applied" in r.text
    r = client.post(
        "/experiments/better/actions/resume", data={"csrf": csrf, "reason": "ok", "confirm": "yes"}
    )
    assert r.status_code == 200
    confirm = client.get(f"/reviews/{review_id}/confirm?verdict=approve")
    assert confirm.status_code == 200 and "candidate wins" in confirm.text
    r = client.post(f"/reviews/{review_id}/approve", data={"csrf": csrf, "note": "fine", "confirm": "yes"})
    assert r.status_code == 200 and f"review {review_id} approved by bob" in r.text
    store = open_store(store_url)
    state = store.get_state(EXPERIMENT)
    assert state is not None and (state.status, state.winner, state.actor) == (S.SHIPPED, "candidate", "bob")
    assert [s.evidence.get("source") for s in store.history(EXPERIMENT)][:2] == ["dashboard", "dashboard"]
    store.close()
    r = client.post(
        "/experiments/better/actions/rollback", data={"csrf": csrf, "reason": "bad", "confirm": "yes"}
    )
    assert r.status_code == 200
    assert _history(store_url) == [
        ("paused", "bob"),
        ("running", "bob"),
        ("shipped", "bob"),
        ("rolled_back", "bob"),
    ]


def test_bad_requests_get_clear_4xx_never_a_traceback(stores: tuple[str, str, str]) -> None:
    store_url, obs_url, review_id = stores
    client = make_client(store_url, obs_url)
    csrf = sign_in(client)

    def post(path: str, **form: str) -> Any:
        return client.post(path, data={"csrf": csrf, **form})

    raw = {"Content-Type": "application/x-www-form-urlencoded"}
    rollback = "/experiments/better/actions/rollback"
    cases = [
        (client.get("/experiments/nope"), 404, "no experiment 'nope'"),
        (client.get("/no/such/page"), 404, "no such page"),
        (client.get("/experiments/better/confirm?action=explode"), 400, "unknown action"),
        (client.get("/experiments/better/confirm?action=ship&winner=ghost"), 400, "winner"),
        (client.get("/reviews/better:00000000/confirm?verdict=approve"), 404, "no review"),
        (post(rollback, confirm="yes"), 400, "reason is required"),
        (post(rollback, reason="r"), 400, "not confirmed"),
        (post(rollback, reason="r" * 600, confirm="yes"), 400, "longer than"),
        (post("/experiments/better/actions/explode", reason="r", confirm="yes"), 404, "unknown action"),
        (
            post("/experiments/better/actions/ship", reason="r", confirm="yes", winner="ghost"),
            409,
            "no variant",
        ),
        (post("/reviews/better:00000000/approve", confirm="yes"), 404, "no review"),
        (post("/reviews/better:00000000/explode", confirm="yes"), 404, "unknown verdict"),
        (client.post(rollback, content=b"csrf=" + b"x" * 20000, headers=raw), 413, "larger"),
        (client.post(rollback, content=b"\xff\xfe", headers=raw), 400, "UTF-8"),
    ]
    for response, status, text in cases:
        assert response.status_code == status, (
            response.request.url,
            response.status_code,
            response.text[:300],
        )
        assert text in html.unescape(response.text) and "Traceback" not in response.text
    # a stale review (the experiment was rolled back after the request) cannot be approved: 409
    client.post(
        "/experiments/better/actions/rollback", data={"csrf": csrf, "reason": "bad", "confirm": "yes"}
    )
    r = client.post(f"/reviews/{review_id}/approve", data={"csrf": csrf, "confirm": "yes"})
    assert r.status_code == 409 and "stale" in r.text
    r = client.post("/experiments/better/actions/pause", data={"csrf": csrf, "reason": "r", "confirm": "yes"})
    assert r.status_code == 409 and "cannot pause" in r.text  # not allowed from rolled_back
    j = client.post("/reviews/better:00000000/approve", data={"csrf": csrf, "confirm": "yes"},
                    headers={"Accept": "application/json"})  # fmt: skip
    assert j.status_code == 404 and j.json()["status"] == 404


def test_no_prompt_or_response_content_is_shown(stores: tuple[str, str, str]) -> None:
    store_url, obs_url, _ = stores
    client = make_client(store_url, obs_url)
    for path in ("/", "/experiments/better", "/experiments/better?fragment=1"):
        r = client.get(path)
        assert r.status_code == 200
        assert "Content-Security-Policy" in r.headers and r.headers["Cache-Control"] == "no-store"
        assert '<script src="http' not in r.text and "cdn" not in r.text.lower()


def test_tokens_come_from_an_env_var_or_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from routing_agent.dashboard.security import TOKEN_ENV, load_token

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert load_token() is None
    monkeypatch.setenv(TOKEN_ENV, "  env-token-0123456789  ")
    assert load_token() == "env-token-0123456789"
    path = tmp_path / "token"
    path.write_text("file-token-0123456789\n")
    assert load_token(path) == "file-token-0123456789"
    path.write_text("short")
    with pytest.raises(ValueError, match="at least 16"):
        load_token(path)
    with pytest.raises(ValueError, match="cannot read"):
        load_token(tmp_path / "missing")


def test_an_expired_or_tampered_sign_in_is_refused(stores: tuple[str, str, str]) -> None:
    import time

    from routing_agent.dashboard.security import SESSION_MAX_AGE_S, read_session, session_value

    store_url, obs_url, _ = stores
    client = make_client(store_url, obs_url)
    csrf = csrf_of(client)
    old = session_value(TOKEN, "alice", now=time.time() - SESSION_MAX_AGE_S - 60)
    assert read_session(TOKEN, old) is None
    fresh = session_value(TOKEN, "alice")
    assert read_session(TOKEN, fresh) == "alice"
    encoded, issued, mac = fresh.split(".")
    assert read_session(TOKEN, f"{encoded}.{int(issued) + 3600}.{mac}") is None  # extended lifetime
    flipped = mac[:-1] + ("1" if mac[-1] == "0" else "0")
    for cookie in (old, f"{encoded}.{issued}.{flipped}", "bWFsbG9yeQ.1.abc"):
        client.cookies.set("ra_session", cookie)
        r = client.post(
            "/experiments/better/actions/rollback", data={"csrf": csrf, "reason": "r", "confirm": "yes"}
        )
        assert r.status_code == 401
    assert _history(store_url) == []
