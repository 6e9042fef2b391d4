"""Ship to a segment from the dashboard: what the page offers, the confirmation, and review enforcement.

Real SQLite stores and the real app: a ship to ``tier=pro`` lands in the live state exactly as ``routing-agent
ship --segment tier=pro`` writes it (the routing node follows it: see test_browser_segment); with ``review:
required`` the page queues a segmentation review instead, and approving it on the page ships the segment.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from routing_agent.assignment.assigner import SHIP_SEGMENT
from routing_agent.cli import app as cli_app
from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.review import ReviewQueue
from routing_agent.dashboard import Board, pages
from routing_agent.evaluation.decision import Decision, DecisionKind
from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations.open import open_observation_store
from routing_agent.stores.reviews.base import ReviewStatus
from tests.dashboard.support import CONFIG, EXPERIMENT, add_traffic, config, config_with, make_client, sign_in

BASE = f"/experiments/{EXPERIMENT}"


@pytest.fixture
def urls(tmp_path: Path) -> tuple[str, str]:
    store_url, obs_url = str(tmp_path / "state.db"), str(tmp_path / "obs.db")
    store = open_store(store_url)
    add_traffic(store, obs_url, 60)
    store.close()
    return store_url, obs_url


def _confirm_fields(page: str) -> dict[str, str]:
    return {html.unescape(k): html.unescape(v) for k, v in re.findall(r'name="(\w+)" value="([^"]*)"', page)}


def _state(store_url: str) -> tuple[str, str | None, dict[str, list[str]] | None, str | None]:
    store = open_store(store_url)
    try:
        state = store.get_state(EXPERIMENT)
        if state is None:
            return "running", None, None, None
        return state.status.value, state.winner, state.evidence.get(SHIP_SEGMENT), state.actor
    finally:
        store.close()


def test_the_page_offers_the_observed_segments_and_ships_one(urls: tuple[str, str]) -> None:
    store_url, obs_url = urls
    client = make_client(store_url, obs_url, cfg=config_with(review="none"))
    csrf = sign_in(client, "dana")
    page = client.get(BASE).text
    form = re.search(r'<form method="get" action="[^"]+/confirm" class="segment keep">.*?</form>', page)
    assert form is not None, page[:3000]
    assert 'value="tier=free"' in form.group(0) and 'value="tier=pro"' in form.group(0)
    assert '<option value="candidate">' in form.group(0) and 'value="control"' not in form.group(0)

    confirm = client.get(
        f"{BASE}/confirm", params={"action": "ship", "winner": "candidate", "segment": "tier=pro"}
    )
    assert confirm.status_code == 200
    text = html.unescape(confirm.text)
    assert "Ship 'candidate' to units with tier=pro" in text and "control" in text
    fields = _confirm_fields(confirm.text)
    assert json.loads(fields["segment"]) == {"tier": ["pro"]} and fields["winner"] == "candidate"
    assert _state(store_url) == ("running", None, None, None)  # a confirmation page changes nothing

    r = client.post(
        f"{BASE}/actions/ship", data={**fields, "csrf": csrf, "reason": "pro only", "confirm": "yes"}
    )
    assert r.status_code == 200 and "ship 'candidate' to tier=pro: applied" in html.unescape(r.text)
    assert _state(store_url) == ("shipped", "candidate", {"tier": ["pro"]}, "dana")
    assert 'data-state="shipped"' in r.text and "candidate to tier=pro" in html.unescape(r.text)


def test_it_writes_what_the_cli_writes(urls: tuple[str, str], tmp_path: Path) -> None:
    """The page and ``routing-agent ship --segment`` write the same live state (only the source differs)."""
    store_url, obs_url = urls
    client = make_client(store_url, obs_url, cfg=config_with(review="none"))
    csrf = sign_in(client, "dana")
    segment = json.dumps({"tier": ["free", "pro"]})
    r = client.post(
        f"{BASE}/actions/ship",
        data={"csrf": csrf, "winner": "candidate", "segment": segment, "reason": "r", "confirm": "yes"},
    )
    assert r.status_code == 200, r.text[:500]
    other = tmp_path / "cli.db"
    open_store(str(other)).close()
    cfg_file = tmp_path / "cfg.yaml"
    (exp,) = CONFIG["experiments"]
    cfg_file.write_text(yaml.safe_dump({**CONFIG, "experiments": [{**exp, "review": "none"}]}))
    out = CliRunner().invoke(
        cli_app, ["ship", "--store", str(other), "--config", str(cfg_file), "--variant", "candidate",
                  "--segment", "tier=pro,free", "--reason", "r", "--actor", "dana"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    page_state, cli_state = open_store(store_url), open_store(str(other))
    a, b = page_state.get_state(EXPERIMENT), cli_state.get_state(EXPERIMENT)
    page_state.close()
    cli_state.close()
    assert a is not None and b is not None
    assert (a.status, a.winner) == (b.status, b.winner) == (S.SHIPPED, "candidate")
    same = {k: set(v) for k, v in a.evidence[SHIP_SEGMENT].items()}
    assert same == {k: set(v) for k, v in b.evidence[SHIP_SEGMENT].items()} == {"tier": {"free", "pro"}}
    assert (a.evidence["source"], b.evidence["source"]) == ("dashboard", "cli")


def test_review_required_queues_a_review_that_the_page_approves(urls: tuple[str, str]) -> None:
    store_url, obs_url = urls
    client = make_client(store_url, obs_url)  # review: required
    csrf = sign_in(client, "erin")
    confirm = client.get(
        f"{BASE}/confirm", params={"action": "ship", "winner": "candidate", "segment": "tier=pro"}
    )
    assert "queues a review" in html.unescape(confirm.text)
    fields = {**_confirm_fields(confirm.text), "csrf": csrf, "reason": "pro users win", "confirm": "yes"}
    r = client.post(f"{BASE}/actions/ship", data=fields)
    assert r.status_code == 200 and "requested (review: required)" in html.unescape(r.text)
    assert _state(store_url) == ("running", None, None, None)  # nothing shipped without approval
    store = open_store(store_url)
    (item,) = ReviewQueue(store, config=config()).items(EXPERIMENT)
    store.close()
    assert item.status is ReviewStatus.PENDING and item.requested_by == "erin"
    assert item.decision["kind"] == "segmentation" and item.decision["evidence"]["ship_segment"] == {
        "tier": ["pro"]
    }
    assert f'data-review="{item.id}"' in r.text and "ship candidate to tier=pro" in html.unescape(r.text)

    again = client.post(f"{BASE}/actions/ship", data=fields)  # the same proposal: still the one item
    assert again.status_code == 200 and "already pending" in again.text
    other = client.post(f"{BASE}/actions/ship", data={**fields, "segment": json.dumps({"tier": ["free"]})})
    assert other.status_code == 409 and item.id in other.text and "decide it" in other.text

    question = client.get(f"/reviews/{item.id}/confirm?verdict=approve")
    assert "to units with tier=pro" in html.unescape(question.text)
    r = client.post(f"/reviews/{item.id}/approve", data={"csrf": csrf, "note": "ok", "confirm": "yes"})
    assert r.status_code == 200 and "approved by erin" in r.text
    assert _state(store_url) == ("shipped", "candidate", {"tier": ["pro"]}, "erin")


def test_a_ship_to_everyone_with_review_required_queues_a_review_too(urls: tuple[str, str]) -> None:
    store_url, obs_url = urls
    client = make_client(store_url, obs_url)
    csrf = sign_in(client)
    r = client.post(
        f"{BASE}/actions/ship", data={"csrf": csrf, "winner": "candidate", "reason": "r", "confirm": "yes"}
    )
    assert r.status_code == 200 and "to everyone: review" in html.unescape(r.text)
    store = open_store(store_url)
    (item,) = ReviewQueue(store, config=config()).items(EXPERIMENT)
    assert item.decision["kind"] == "ship" and store.get_state(EXPERIMENT) is None
    store.close()


def test_the_evaluators_segment_reading_is_offered(urls: tuple[str, str]) -> None:
    """A segmentation decision's segment is a one-click suggestion, even for values not in the data."""
    store_url, obs_url = urls
    client = make_client(store_url, obs_url, cfg=config_with(review="none"))
    board = Board(config(), open_store(store_url), open_observation_store(obs_url), refresh_s=0.0)
    real = board.view(board.config.experiments[0])
    board.close()
    assert real.report is not None and real.segment_values == {"tier": ("free", "pro")}
    report = {**real.report, "decision": Decision(
        EXPERIMENT, DecisionKind.SEGMENTATION, "worse on free", winner="candidate",
        evidence={"ship_segment": {"tier": ["pro", "team"]}},
    ).to_json()}  # fmt: skip
    view = replace(real, report=report)
    assert view.suggested_segment() == ("candidate", {"tier": ["pro", "team"]})
    assert view.segment_offer() == {"tier": {"free", "pro", "team"}}
    body = pages.experiment_body(view, pages.Chrome("dana", "x", read_only=False))
    link = re.search(r'class="action suggested" href="([^"]+)"', body)
    assert link is not None and "ship candidate to tier=pro|team" in html.unescape(body)
    target = html.unescape(link.group(1))
    assert target.endswith("action=ship&winner=candidate&segment=tier%3Dpro&segment=tier%3Dteam"), target
    sign_in(client)
    assert client.get(f"{BASE}/confirm", params={"action": "ship", "winner": "candidate",
                                                 "segment": "tier=team"}).status_code == 400  # fmt: skip


@pytest.mark.parametrize(
    ("segment", "winner", "status", "message"),
    [
        ({"tier": ["gold"]}, "candidate", 400, "tier=gold is not a segment"),
        ({"region": ["eu"]}, "candidate", 400, "region=eu is not a segment"),
        ({"tier": ["pro"]}, "control", 400, "is the control"),
        ({"tier": ["pro"]}, "ghost", 409, "has no variant 'ghost'"),
        ("not json", "candidate", 400, "not valid"),
        ({"tier": []}, "candidate", 400, "lists of values"),
        (["tier", "pro"], "candidate", 400, "lists of values"),
    ],
)
def test_bad_segments_are_refused_and_change_nothing(
    urls: tuple[str, str], segment: object, winner: str, status: int, message: str
) -> None:
    store_url, obs_url = urls
    client = make_client(store_url, obs_url, cfg=config_with(review="none"))
    csrf = sign_in(client)
    text = segment if isinstance(segment, str) else json.dumps(segment)
    r = client.post(
        f"{BASE}/actions/ship",
        data={"csrf": csrf, "winner": winner, "segment": text, "reason": "r", "confirm": "yes"},
    )
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert message in html.unescape(r.text) and "Traceback" not in r.text
    assert _state(store_url) == ("running", None, None, None)
    bad_pair = client.get(
        f"{BASE}/confirm", params={"action": "ship", "winner": "candidate", "segment": "tier"}
    )
    assert bad_pair.status_code == 400 and "attribute=value" in bad_pair.text


def test_read_only_pages_offer_no_segment_ship(urls: tuple[str, str]) -> None:
    store_url, obs_url = urls
    client = make_client(store_url, obs_url, read_only=True)
    page = client.get(BASE).text
    assert "Ship to a segment" not in page and 'class="segment' not in page
    assert _state(store_url)[0] == S.RUNNING.value
