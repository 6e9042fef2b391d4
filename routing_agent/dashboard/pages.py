"""Server-rendered HTML: the experiments page, the experiment page, confirmations, sign-in and errors.

Pages are plain HTML with the shipped ``/static`` CSS and a small script that keeps the ``main`` region live:
it follows the ``data-events`` stream (server-sent events) and polls ``data-live`` when the stream fails.
Nothing shows prompt or response content: the pages render counts, statistics, decisions and the
audit trail only.
"""

from __future__ import annotations

__all__ = ["Chrome", "confirm_page", "error_page", "experiment_body", "index_body", "login_page", "page"]

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from routing_agent.assignment.assigner import SHIP_SEGMENT
from routing_agent.control.identity import describe_segment
from routing_agent.control.review import segment_of
from routing_agent.control.rollout import ALLOWED, Action
from routing_agent.control.status import ExperimentSnapshot
from routing_agent.dashboard.board import ExperimentView
from routing_agent.evaluation.report.content import KIND_LABEL, build
from routing_agent.evaluation.report.html import _section as report_section
from routing_agent.evaluation.report.svg import esc

_LIGHT = {"held": "green", "breached": "red", "insufficient_data": "grey"}
_STATE_ACTIONS = (Action.PAUSE, Action.RESUME, Action.ROLLBACK, Action.STOP)


@dataclass(frozen=True)
class Chrome:
    """What every page's frame needs: who is signed in, the CSRF value, and whether actions are on."""

    user: str | None
    csrf: str
    read_only: bool
    live_every_s: float = 2.0


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ") if ts else "—"


def page(title: str, body: str, chrome: Chrome, *, live: str | None = None, events: str | None = None) -> str:
    """A whole page: header (sign-in state), ``body``; ``live``: the URL the script re-reads ``main`` from
    when polling, ``events``: the server-sent event stream that pushes it (None: poll only)."""
    if chrome.read_only:
        who = '<span class="badge">read-only</span>'
    elif chrome.user:
        who = (
            f'signed in as <b>{esc(chrome.user)}</b> <form method="post" action="/logout" class="inline">'
            f'<input type="hidden" name="csrf" value="{esc(chrome.csrf)}"><button>sign out</button></form>'
        )
    else:
        who = '<a href="/login">sign in to act</a>'
    attrs = f' data-live="{esc(live)}" data-every="{chrome.live_every_s:g}"' if live else ""
    attrs += f' data-events="{esc(events)}"' if live and events else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        f'<title>{esc(title)}</title><link rel="stylesheet" href="/static/dashboard.css">'
        '<script src="/static/dashboard.js" defer></script></head><body>'
        f'<nav><a href="/">routing-agent · experiments</a><span class="who">{who}</span></nav>'
        f'<main id="live"{attrs}>{body}</main></body></html>\n'
    )


def _bar(units: int, planned: int | None) -> str:
    if not planned:
        return f'<span class="count">{units:,} units · no plan yet</span>'
    share = min(1.0, units / planned)
    return (
        f'<div class="bar" role="progressbar" aria-valuenow="{units}" aria-valuemax="{planned}">'
        f'<div class="fill" style="width:{100 * share:.1f}%"></div></div>'
        f'<span class="count">{units:,} / {planned:,} ({100 * share:.0f}%)</span>'
    )


def _arms(view: ExperimentView) -> str:
    snap, planned = view.snapshot, view.planned()
    rows = []
    for v in view.spec.variants:
        units = snap.counts.get(v.name, 0) if snap is not None else 0
        weight = f"{100 * (v.weight or 0):.0f}%"
        role = " (control)" if v.control else ""
        rows.append(
            f'<tr class="arm" data-variant="{esc(v.name)}" data-units="{units}">'
            f"<td>{esc(v.name)}{role}</td><td>{esc(v.model)}</td><td>{weight}</td>"
            f"<td>{_bar(units, planned.get(v.name))}</td></tr>"
        )
    return (
        '<table class="arms"><thead><tr><th>variant</th><th>model</th><th>weight</th>'
        f"<th>units assigned vs planned</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _lights(view: ExperimentView) -> str:
    lights = view.guardrail_status()
    if not lights:
        return '<p class="note">No guardrails configured.</p>'
    return "".join(
        f'<span class="light {_LIGHT.get(status, "grey")}" data-status="{esc(status)}" '
        f'title="{esc(status)}">{esc(name)}: {esc(status.replace("_", " "))}</span>'
        for name, status in lights
    )


def _state(snap: ExperimentSnapshot | None) -> str:
    if snap is None:
        return '<span class="state unknown">unknown</span>'
    s = snap.state
    winner = f" → {esc(s.winner)}{_to(s.evidence.get(SHIP_SEGMENT))}" if s.winner else ""
    status = esc(s.status.value)
    return f'<span class="state {status}" data-state="{status}">{status}{winner}</span>'


def _decision(view: ExperimentView) -> str:
    if view.report is None:
        return f'<p class="decision none">{esc(view.error or "no evaluation yet")}</p>'
    d = view.report["decision"]
    label = KIND_LABEL.get(d["kind"], d["kind"].upper())
    return f'<p class="decision {esc(d["kind"])}"><b>{esc(label)}</b> — {esc(d["summary"])}</p>'


def _alarms(view: ExperimentView) -> str:
    alarms = view.alarms()
    if view.error and view.snapshot is None:
        alarms.insert(0, view.error)
    if not alarms:
        return ""
    return '<ul class="alarms">' + "".join(f"<li>{esc(a)}</li>" for a in alarms) + "</ul>"


def index_body(views: list[ExperimentView]) -> str:
    """The experiments page: one card per experiment."""
    cards = []
    for view in views:
        snap = view.snapshot
        pending = len(snap.pending_reviews) if snap is not None else 0
        review = f'<span class="badge review">{pending} review pending</span>' if pending else ""
        href = f"/experiments/{quote(view.spec.id, safe='')}"
        cards.append(
            f'<section class="card" data-experiment="{esc(view.spec.id)}">'
            f'<h2><a href="{href}">{esc(view.spec.id)}</a> {_state(snap)} {review}</h2>'
            f'{_decision(view)}{_arms(view)}<div class="lights">{_lights(view)}</div>'
            f"{_alarms(view)}</section>"
        )
    return "<h1>Experiments</h1>" + ("".join(cards) or '<p class="note">The config has no experiments.</p>')


def _actions(view: ExperimentView, chrome: Chrome) -> str:
    if chrome.read_only:
        return '<p class="note">Read-only dashboard: actions are off.</p>'
    base = f"/experiments/{quote(view.spec.id, safe='')}/confirm"
    allowed = ALLOWED[view.snapshot.state.status] if view.snapshot is not None else frozenset(Action)
    links = [f'<a class="action" href="{base}?action={a}">{a}</a>' for a in _STATE_ACTIONS if a in allowed]
    if Action.SHIP in allowed:
        links += [
            f'<a class="action" href="{base}?action=ship&amp;winner={quote(v.name)}">ship {esc(v.name)}</a>'
            for v in view.spec.variants
        ]
    return '<div class="actions">' + " ".join(links) + "</div>" + _segment_ship(view, base)


def _segment_ship(view: ExperimentView, confirm: str) -> str:
    """Ship to a segment: the evaluator's reading as one link, and a form over the observed segments."""
    spec = view.spec
    candidates = [v.name for v in spec.variants if not v.control]
    offer = view.segment_offer()
    if not candidates or not offer:
        return ""
    parts = ['<div class="segment-ship" id="segment-ship"><h3>Ship to a segment</h3>']
    suggested = view.suggested_segment()
    if suggested is not None:
        winner, segment = suggested
        query = "&amp;".join(f"segment={quote(f'{k}={v}', safe='')}" for k, vs in segment.items() for v in vs)
        parts.append(
            f'<p>The evaluator suggests: <a class="action suggested" href="{confirm}?action=ship&amp;'
            f'winner={quote(winner, safe="")}&amp;{query}">ship {esc(winner)} to '
            f"{esc(describe_segment(segment))}</a></p>"
        )
    options = "".join(f'<option value="{esc(n)}">{esc(n)}</option>' for n in candidates)
    boxes = "".join(
        f'<label class="seg"><input type="checkbox" name="segment" value="{esc(f"{k}={v}")}"> '
        f"{esc(k)}={esc(v)}</label>"
        for k in sorted(offer)
        for v in sorted(offer[k])
    )
    parts.append(
        f'<form method="get" action="{confirm}" class="segment keep"><input type="hidden" name="action" '
        f'value="ship"><label>ship <select name="winner">{options}</select></label> to units with '
        f'{boxes} <button type="submit" id="ship-segment">ship to segment…</button>'
        '<p class="note">Values of one attribute are alternatives; several attributes must all match. Every '
        "other unit goes to control.</p></form></div>"
    )
    return "".join(parts)


def _reviews(view: ExperimentView, chrome: Chrome) -> str:
    snap = view.snapshot
    if snap is None or not snap.pending_reviews:
        return '<p class="note">No review waiting.</p>'
    rows = []
    for item in snap.pending_reviews:
        links = ""
        if not chrome.read_only:
            rid = quote(item.id, safe="")
            links = (
                f'<a class="action approve" href="/reviews/{rid}/confirm?verdict=approve">approve</a> '
                f'<a class="action reject" href="/reviews/{rid}/confirm?verdict=reject">reject</a>'
            )
        rows.append(
            f'<tr class="review" data-review="{esc(item.id)}"><td>{esc(item.id)}</td>'
            f"<td>ship {esc(item.winner)}{_to(segment_of(item))}</td>"
            f"<td>{esc(item.decision.get('summary', ''))}</td>"
            f"<td>{esc(item.requested_by)} at {_when(item.created_at)}</td><td>{links}</td></tr>"
        )
    return (
        "<table><thead><tr><th>review</th><th>proposal</th><th>evidence</th><th>requested</th><th></th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _to(segment: dict[str, list[str]] | None) -> str:
    return f" to {esc(describe_segment(segment))}" if segment else ""


def _audit(snap: ExperimentSnapshot | None) -> str:
    if snap is None or not snap.history:
        return '<p class="note">No state change recorded yet (the YAML\'s status applies).</p>'
    rows = "".join(
        f"<tr><td>{s.version}</td><td>{_when(s.changed_at)}</td><td>{esc(s.status.value)}"
        f"{' → ' + esc(s.winner) if s.winner else ''}{_to(s.evidence.get(SHIP_SEGMENT))}</td>"
        f"<td>{esc(s.actor or '')}</td>"
        f"<td>{esc(s.reason or '')}</td></tr>"
        for s in reversed(snap.history)
    )
    return (
        '<table class="audit"><thead><tr><th>version</th><th>when</th><th>state</th><th>actor</th>'
        f"<th>reason</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _percentiles(view: ExperimentView) -> str:
    if not view.percentiles:
        return '<p class="note">No latency or TTFT observations yet.</p>'
    rows = "".join(
        f"<tr><td>{esc(metric)}</td><td>{esc(variant)}</td><td>{int(q['count']):,}</td>"
        + "".join(f"<td>{q[k]:.3g}</td>" for k in ("p50", "p90", "p95", "p99"))
        + "</tr>"
        for metric, per_variant in view.percentiles.items()
        for variant, q in per_variant.items()
    )
    return (
        '<table class="percentiles"><thead><tr><th>metric (s)</th><th>variant</th><th>calls</th><th>p50</th>'
        f"<th>p90</th><th>p95</th><th>p99</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def experiment_body(view: ExperimentView, chrome: Chrome) -> str:
    """The experiment page: state, actions, reviews, then the evaluation's sections and the audit trail."""
    top = (
        f"<h1>{esc(view.spec.id)} {_state(view.snapshot)}</h1>{_decision(view)}"
        f'<section id="status"><h2>Traffic</h2>{_arms(view)}<div class="lights">{_lights(view)}</div>'
        f"{_alarms(view)}{_actions(view, chrome)}</section>"
        f'<section id="reviews"><h2>Review queue</h2>{_reviews(view, chrome)}</section>'
    )
    report = ""
    if view.report is not None:
        _, sections = build(view.report)
        report = "".join(report_section(s, view.report) for s in sections)
    speed = f'<section id="percentiles"><h2>Latency and TTFT percentiles</h2>{_percentiles(view)}</section>'
    audit = f'<section id="audit"><h2>Audit trail</h2>{_audit(view.snapshot)}</section>'
    return top + speed + report + audit


def _hidden(fields: dict[str, str]) -> str:
    return "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in fields.items())


def confirm_page(
    title: str,
    question: str,
    action: str,
    fields: dict[str, str],
    chrome: Chrome,
    *,
    text_field: str,
    extra: str = "",
) -> str:
    """A confirmation form: the question, a required reason/note field, and the confirm button."""
    required = " required" if text_field == "reason" else ""
    body = (
        f'<h1>{esc(title)}</h1><form method="post" action="{esc(action)}" class="confirm">'
        f"<p>{esc(question)}</p>{_hidden({**fields, 'csrf': chrome.csrf})}"
        f'<label>{esc(text_field)} <input name="{esc(text_field)}" size="60"{required}></label>{extra}'
        '<p><button type="submit" name="confirm" value="yes" id="confirm">Confirm</button> '
        '<a href="/">cancel</a></p></form>'
    )
    return page(title, body, chrome)


def login_page(chrome: Chrome, message: str = "") -> str:
    """Sign in with the dashboard token and the name recorded as the acting identity."""
    note = f'<p class="error">{esc(message)}</p>' if message else ""
    body = (
        f'<h1>Sign in</h1>{note}<form method="post" action="/login" class="confirm">'
        f"{_hidden({'csrf': chrome.csrf})}"
        '<label>your name (recorded with every change) <input name="name" required></label>'
        '<label>dashboard token <input name="token" type="password" required></label>'
        '<p><button type="submit" id="signin">Sign in</button></p></form>'
    )
    return page("Sign in", body, chrome)


def error_page(status: int, message: str, chrome: Chrome) -> str:
    """A clear error page: the status and one sentence (never a traceback)."""
    return page(
        f"{status}",
        f'<h1>{status}</h1><p class="error">{esc(message)}</p><p><a href="/">back</a></p>',
        chrome,
    )
