"""A store that does not answer never breaks the dashboard: pages say so, errors are counted, actions 503."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.dashboard.support import EXPERIMENT, make_client, sign_in


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port  # closed again when the block ends: nothing listens there


def test_an_unreachable_store_shows_on_the_page_and_refuses_actions(tmp_path: Path) -> None:
    down = f"redis://127.0.0.1:{_closed_port()}/0?timeout=0.5"
    client = make_client(down, str(tmp_path / "obs.db"))
    assert client.get("/healthz").json()["errors"] == 0
    for path in ("/", f"/experiments/{EXPERIMENT}"):
        r = client.get(path)
        assert r.status_code == 200, r.text[:500]
        assert "cannot read the store" in r.text and "Traceback" not in r.text
    assert client.get("/healthz").json()["errors"] >= 2  # counted and visible
    csrf = sign_in(client)
    r = client.post(
        f"/experiments/{EXPERIMENT}/actions/rollback", data={"csrf": csrf, "reason": "r", "confirm": "yes"}
    )
    assert r.status_code == 503 and "store did not answer" in r.text and "Traceback" not in r.text
