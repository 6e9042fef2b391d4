"""The ASGI app (Starlette): read pages for everyone, state changes for signed-in holders of the token.

Routes::

    GET  /                                  every experiment: state, arms, progress bars, decision, lights
    GET  /events                            the same, pushed live (server-sent events)
    GET  /experiments/{id}                  one experiment: the evaluation's plots and tables, audit trail
    GET  /experiments/{id}/events           the same, pushed live (server-sent events)
    GET  /experiments/{id}/confirm?action=  confirmation form (rollback, pause, resume, stop,
                                            ship&winner=[&segment=attribute=value …])
    POST /experiments/{id}/actions/{action} apply it through ``Rollout`` (the CLI's library call); a ship
                                            of a ``review: required`` experiment queues a review instead
    GET  /reviews/{id}/confirm?verdict=     confirmation form (approve, reject)
    POST /reviews/{id}/{verdict}            decide it through ``ReviewQueue`` (review enforcement included)
    GET|POST /login, POST /logout           sign in with the token and the name recorded as actor
    GET  /healthz                           liveness and the count of store/evaluation errors

Every POST checks, in order: read-only mode (403), the CSRF field against its cookie and the ``Origin``
(403), the signed sign-in cookie (401). Library refusals are 409, unknown ids 404, bad input 400, a store
that does not answer 503 — each a short page (or JSON with ``Accept: application/json``), never a traceback.
"""

from __future__ import annotations

__all__ = ["DashboardSettings", "create_app"]

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from routing_agent.control.identity import describe_segment
from routing_agent.control.review import ReviewQueue, segment_of
from routing_agent.control.rollout import Action, Rollout
from routing_agent.dashboard import pages, shipping
from routing_agent.dashboard.board import Board
from routing_agent.dashboard.live import EventStreams
from routing_agent.dashboard.requests import (
    HEADERS,
    MAX_TEXT,
    Refused,
    fresh_csrf,
    read_form,
    same_text,
    text_field,
    thread,
)
from routing_agent.dashboard.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    csrf_ok,
    read_session,
    same_origin,
    session_value,
)
from routing_agent.errors import ExperimentNotFound, ReviewNotFound, StateTransitionError, StoreError
from routing_agent.evaluation.report.svg import esc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DashboardSettings:
    """How the app behaves: the action token (None: read-only), read-only mode, live refresh period."""

    token: str | None = None
    read_only: bool = False
    live_every_s: float = 2.0
    secure_cookies: bool = False  # set Secure on cookies (behind HTTPS)
    events: bool = True  # live updates by server-sent events (False: the pages poll)
    max_streams: int = 64  # open event streams per process; beyond, pages poll

    @property
    def actions_on(self) -> bool:
        """Whether state-changing actions are possible at all."""
        return self.token is not None and not self.read_only


def create_app(board: Board, settings: DashboardSettings) -> Starlette:
    """The dashboard over ``board``'s stores with ``settings``' security."""
    streams = EventStreams(settings.live_every_s, max_streams=settings.max_streams)

    def chrome(request: Request) -> pages.Chrome:
        user = read_session(settings.token, request.cookies.get(SESSION_COOKIE))
        csrf = request.cookies.get(CSRF_COOKIE) or fresh_csrf(request)
        return pages.Chrome(user, csrf, not settings.actions_on, settings.live_every_s)

    def html(request: Request, text: str, status: int = 200) -> HTMLResponse:
        response = HTMLResponse(text, status_code=status, headers=HEADERS)
        if CSRF_COOKIE not in request.cookies:
            response.set_cookie(
                CSRF_COOKIE, fresh_csrf(request), httponly=True, samesite="strict",
                secure=settings.secure_cookies,
            )  # fmt: skip
        return response

    def fail(request: Request, status: int, message: str) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"error": message, "status": status}, status_code=status, headers=HEADERS)
        return html(request, pages.error_page(status, message, chrome(request)), status)

    async def guarded(request: Request) -> tuple[dict[str, str], str]:
        """The form of an allowed state change and the acting identity, or ``Refused``."""
        if not settings.actions_on:
            why = "--read-only" if settings.read_only else "no token is configured"
            raise Refused(403, f"this dashboard is read-only ({why}): state changes are off")
        fields = await read_form(request)
        if not same_origin(request.headers.get("origin"), request.headers.get("host")):
            raise Refused(403, "CSRF check failed: the request came from another origin")
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), fields.get("csrf")):
            raise Refused(403, "CSRF check failed: reload the page and submit the form again")
        user = read_session(settings.token, request.cookies.get(SESSION_COOKIE))
        if user is None:
            raise Refused(401, "sign in with the dashboard token first (/login)")
        return fields, user

    def spec_of(experiment: str) -> Any:
        spec = board.spec(experiment)
        if spec is None:
            known = ", ".join(s.id for s in board.config.experiments) or "none"
            raise Refused(404, f"no experiment '{experiment}' in the config (known: {known})")
        return spec

    # -- pages ---------------------------------------------------------------------------------------

    def index(request: Request) -> Response:
        body = pages.index_body(board.views())
        if request.query_params.get("fragment"):
            return html(request, body)
        events = "/events" if settings.events else None
        return html(
            request, pages.page("Experiments", body, chrome(request), live="/?fragment=1", events=events)
        )

    def experiment(request: Request) -> Response:
        spec = spec_of(request.path_params["experiment"])
        body = pages.experiment_body(board.view(spec), chrome(request))
        note = request.query_params.get("done")
        if note:
            body = f'<p class="done">{esc(note[:MAX_TEXT])}</p>' + body
        if request.query_params.get("fragment"):
            return html(request, body)
        base = f"/experiments/{quote(spec.id, safe='')}"
        events = base + "/events" if settings.events else None
        return html(
            request, pages.page(spec.id, body, chrome(request), live=base + "?fragment=1", events=events)
        )

    def stream(render: Callable[[], str]) -> Response:
        if not settings.events:
            raise Refused(404, "live updates by server-sent events are off: the pages poll")
        response = streams.response(render)
        if response is None:
            raise Refused(503, f"{settings.max_streams} live streams are open: this page polls instead")
        return response

    def index_events(request: Request) -> Response:
        return stream(lambda: pages.index_body(board.views()))

    def experiment_events(request: Request) -> Response:
        spec, frame = spec_of(request.path_params["experiment"]), chrome(request)
        return stream(lambda: pages.experiment_body(board.view(spec), frame))

    def confirm_action(request: Request) -> Response:
        spec = spec_of(request.path_params["experiment"])
        if not settings.actions_on:
            raise Refused(403, "this dashboard is read-only: state changes are off")
        name = request.query_params.get("action", "")
        try:
            action = Action(name)
        except ValueError:
            raise Refused(
                400, f"unknown action '{name}': use pause, resume, rollback, stop or ship"
            ) from None
        fields = {}
        question = f"{action.value.capitalize()} experiment '{spec.id}'?"
        if action is Action.SHIP:
            winner = request.query_params.get("winner", "")
            if winner not in {v.name for v in spec.variants}:
                raise Refused(400, f"ship needs ?winner= one of the variants of '{spec.id}'")
            fields["winner"] = winner
            question = f"Ship '{winner}' to everyone in experiment '{spec.id}'?"
            pairs = request.query_params.getlist("segment")
            if pairs:
                segment = shipping.parse_pairs(pairs)
                shipping.check_offered(spec, winner, segment, board.view(spec).segment_offer())
                fields["segment"] = shipping.encode_segment(segment)
                question = (
                    f"Ship '{winner}' to units with {describe_segment(segment)} in experiment '{spec.id}'? "
                    f"Every other unit goes to control ('{spec.control.name}')."
                )
            if spec.review == "required":
                question += " The experiment has review: required, so this queues a review; the ship "
                question += "happens when it is approved."
        target = f"/experiments/{quote(spec.id, safe='')}/actions/{action.value}"
        return html(
            request,
            pages.confirm_page(action.value, question, target, fields, chrome(request), text_field="reason"),
        )

    async def apply_action(request: Request) -> Response:
        spec = spec_of(request.path_params["experiment"])
        fields, user = await guarded(request)
        try:
            action = Action(request.path_params["action"])
        except ValueError:
            raise Refused(404, f"unknown action '{request.path_params['action']}'") from None
        if fields.get("confirm") != "yes":
            raise Refused(400, "the change was not confirmed (confirm=yes)")
        reason = text_field(fields, "reason", required=True)
        if action is Action.SHIP:
            winner = fields.get("winner", "")
            segment = shipping.decode_segment(fields["segment"]) if fields.get("segment") else None
            if segment is not None:
                offer = await thread(lambda: board.view(spec).segment_offer())
                shipping.check_offered(spec, winner, segment, offer)

            def ship() -> shipping.ShipOutcome:
                return shipping.ship(board, spec, winner, segment, actor=user, reason=reason)

            done = (await thread(ship)).message(winner, segment)
            return RedirectResponse(f"/experiments/{quote(spec.id, safe='')}?done={quote(done)}", 303)

        def run() -> Any:
            return Rollout(board.store, spec).apply(
                action, actor=user, reason=reason, evidence={"source": "dashboard"}
            )

        change = await thread(run)
        done = f"{action.value}: " + ("applied" if change.applied else "already so, nothing changed")
        return RedirectResponse(f"/experiments/{quote(spec.id, safe='')}?done={quote(done)}", 303)

    def confirm_review(request: Request) -> Response:
        if not settings.actions_on:
            raise Refused(403, "this dashboard is read-only: state changes are off")
        review_id = request.path_params["review"]
        verdict = request.query_params.get("verdict", "")
        if verdict not in ("approve", "reject"):
            raise Refused(400, "verdict is approve or reject")
        item = ReviewQueue(board.store, board.reviews, config=board.config).get(review_id)
        segment = segment_of(item)
        to = f" to units with {describe_segment(segment)} (others on control)" if segment else ""
        question = (
            f"{verdict.capitalize()} shipping '{item.winner}'{to} in '{item.experiment}'? Evidence: "
            + str(item.decision.get("summary", ""))
        )
        extra = (
            '<label><input type="checkbox" name="stop" value="yes"> also stop the experiment</label>'
            if verdict == "reject"
            else ""
        )
        target = f"/reviews/{quote(review_id, safe='')}/{verdict}"
        return html(
            request,
            pages.confirm_page(
                verdict, question, target, {}, chrome(request), text_field="note", extra=extra
            ),
        )

    async def decide_review(request: Request) -> Response:
        fields, user = await guarded(request)
        review_id, verdict = request.path_params["review"], request.path_params["verdict"]
        if verdict not in ("approve", "reject"):
            raise Refused(404, f"unknown verdict '{verdict}': approve or reject")
        if fields.get("confirm") != "yes":
            raise Refused(400, "the verdict was not confirmed (confirm=yes)")
        note = text_field(fields, "note", required=False)
        queue = ReviewQueue(board.store, board.reviews, config=board.config)

        def run() -> Any:
            if verdict == "approve":
                return queue.approve(review_id, reviewer=user, note=note)
            return queue.reject(review_id, reviewer=user, note=note, stop=fields.get("stop") == "yes")

        outcome = await thread(run)
        done = f"review {review_id} {verdict}d by {outcome.item.reviewer}"
        return RedirectResponse(
            f"/experiments/{quote(outcome.item.experiment, safe='')}?done={quote(done)}", 303
        )

    def login_form(request: Request) -> Response:
        return html(request, pages.login_page(chrome(request)))

    async def login(request: Request) -> Response:
        if not settings.actions_on:
            raise Refused(403, "this dashboard is read-only: there is nothing to sign in for")
        fields = await read_form(request)
        if not same_origin(request.headers.get("origin"), request.headers.get("host")) or not csrf_ok(
            request.cookies.get(CSRF_COOKIE), fields.get("csrf")
        ):
            raise Refused(403, "CSRF check failed: reload the sign-in page and try again")
        assert settings.token is not None
        name = text_field(fields, "name", required=True)
        if not same_text(fields.get("token", ""), settings.token):
            return html(request, pages.login_page(chrome(request), "wrong token"), 401)
        response = RedirectResponse("/", 303)
        response.set_cookie(
            SESSION_COOKIE, session_value(settings.token, name), httponly=True, samesite="strict",
            secure=settings.secure_cookies, max_age=SESSION_MAX_AGE_S,
        )  # fmt: skip
        return response

    async def logout(request: Request) -> Response:
        fields = await read_form(request)
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), fields.get("csrf")):
            raise Refused(403, "CSRF check failed: reload the page and try again")
        response = RedirectResponse("/", 303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    def healthz(request: Request) -> Response:
        return JSONResponse(
            {
                "ok": True,
                "errors": board.errors,
                "read_only": not settings.actions_on,
                "streams": streams.open,
            }
        )

    # -- errors --------------------------------------------------------------------------------------

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return fail(request, exc.status, exc.message)

    async def library_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ExperimentNotFound | ReviewNotFound):
            return fail(request, 404, str(exc))
        if isinstance(exc, StateTransitionError):
            return fail(request, 409, f"refused: {exc}")
        if isinstance(exc, StoreError):
            board.count_error()
            return fail(request, 503, f"the store did not answer: {exc}")
        if isinstance(exc, ValueError):
            return fail(request, 400, str(exc))
        log.exception("dashboard: unexpected error on %s", request.url.path)
        return fail(request, 500, "internal error (logged on the server)")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        return fail(request, exc.status_code, message)

    routes = [
        Route("/", index),
        Route("/events", index_events),
        Route("/experiments/{experiment}", experiment),
        Route("/experiments/{experiment}/events", experiment_events),
        Route("/experiments/{experiment}/confirm", confirm_action),
        Route("/experiments/{experiment}/actions/{action}", apply_action, methods=["POST"]),
        Route("/reviews/{review}/confirm", confirm_review),
        Route("/reviews/{review}/{verdict}", decide_review, methods=["POST"]),
        Route("/login", login_form),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/healthz", healthz),
        Mount(
            "/static", StaticFiles(directory=str(files("routing_agent.dashboard") / "static")), name="static"
        ),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            Refused: refused,
            HTTPException: http_error,
            **dict.fromkeys(_LIBRARY_ERRORS, library_error),
            Exception: library_error,
        },
    )

    return app


_LIBRARY_ERRORS = (ExperimentNotFound, ReviewNotFound, StateTransitionError, StoreError, ValueError)
