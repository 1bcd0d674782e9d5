"""HTTP resources: read the request, call one page function or client, render. Nothing more.

Access control and CSRF checks happen in :mod:`sora.admin.middleware`; what a
page shows is decided in :mod:`sora.admin.pages`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import falcon

from sora.admin import pages, telemetry, views
from sora.admin.clients import UpstreamError
from sora.admin.middleware import clear_session_cookie, form_field, set_session_cookie
from sora.admin.models import CATALOG_KINDS
from sora.admin.render import Renderer, StaticFile
from sora.admin.sessions import SessionCodec, tokens_match

log = logging.getLogger("sora.admin")

EXPORT_FILTERS: Final = (
    "target_type",
    "target_id",
    "rating",
    "hidden",
    "has_comment",
    "locale",
    "since",
    "until",
)
STATIC_CACHE: Final = ("public", "max-age=86400")


@dataclass(frozen=True)
class Deps:
    clients: pages.Clients
    renderer: Renderer
    codec: SessionCodec
    admin_token: str
    secure_cookies: bool


class _Resource:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def show(self, req: falcon.Request, resp: falcon.Response, page: pages.Page) -> None:
        self.deps.renderer.page(
            req,
            resp,
            page.template,
            page.status,
            problems=page.problems,
            notice=views.notice(req.params),
            **page.context,
        )

    def failed(
        self, req: falcon.Request, resp: falcon.Response, error: UpstreamError, what: str
    ) -> None:
        problem = pages.problem_of(error)
        self.deps.renderer.page(
            req, resp, "error.html", problem.status, message=f"{what}. {error.message}."
        )


def _client(req: falcon.Request) -> dict[str, str]:
    """Who did it, for the log: the salted hash of the address, never the address."""
    return {"client": req.context.client_hash[:16]}


def redirect(resp: falcon.Response, location: str) -> None:
    """303 See Other, set on the response (so cookies set before it are kept)."""
    resp.status = falcon.HTTP_303
    resp.location = location


class Health:
    """Liveness of the panel itself: it answers even when the APIs are down."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}
        resp.cache_control = ["no-store"]


class Static:
    public = True

    def __init__(self, files: dict[str, StaticFile]) -> None:
        self._files = files

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        found = self._files.get(name)
        if found is None:
            raise falcon.HTTPNotFound()
        resp.data = found.body
        resp.content_type = found.content_type
        resp.cache_control = list(STATIC_CACHE)
        resp.etag = found.version


class SignIn(_Resource):
    """``GET|POST /admin/login``: the token form; a session cookie on success."""

    public = True

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.context.session is None:
            # An anonymous session so that the form carries a CSRF token of its own.
            req.context.session = self.deps.codec.new(signed_in=False, now=req.context.now)
            self._issue(req, resp)
        elif req.context.session.signed_in:
            raise falcon.HTTPSeeOther(views.safe_next(req.get_param("next")))
        self._form(req, resp, 200, None)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        entered = form_field(req, "token") or ""
        if not entered or not tokens_match(entered, self.deps.admin_token):
            telemetry.SIGN_INS.labels("wrong_token").inc()
            log.warning("sign-in refused: wrong token", extra=_client(req))
            self._form(req, resp, 401, "That is not the admin token.")
            return
        telemetry.SIGN_INS.labels("success").inc()
        log.info("signed in", extra=_client(req))
        # A new session id: a cookie planted before sign-in is never promoted.
        req.context.session = self.deps.codec.new(signed_in=True, now=req.context.now)
        self._issue(req, resp)
        redirect(resp, views.safe_next(form_field(req, "next")))

    def _issue(self, req: falcon.Request, resp: falcon.Response) -> None:
        set_session_cookie(
            resp, self.deps.codec, req.context.session, req.context.now, self.deps.secure_cookies
        )

    def _form(
        self, req: falcon.Request, resp: falcon.Response, status: int, error: str | None
    ) -> None:
        next_page = form_field(req, "next") if req.method == "POST" else req.get_param("next")
        self.deps.renderer.page(
            req,
            resp,
            "login.html",
            status,
            error=error,
            next=views.safe_next(next_page),
            notice=views.notice(req.params),
        )


class SignOut(_Resource):
    """``POST /admin/logout``: the cookie is dropped. ``GET`` asks first (it changes nothing)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.deps.renderer.page(req, resp, "logout.html")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        log.info("signed out", extra=_client(req))
        clear_session_cookie(resp)
        redirect(resp, "/admin/login?notice=signed_out")


class Overview(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.show(req, resp, pages.overview(self.deps.clients))


class FeedbackList(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query, errors = views.parse_feedback_query(req.params)
        self.show(req, resp, pages.feedback(self.deps.clients, query, errors))


class FeedbackExport(_Resource):
    """``GET /admin/feedback/export``: the API's export, streamed through with the token."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        fmt = req.get_param("format") or "csv"
        if fmt not in ("csv", "jsonl"):
            raise falcon.HTTPBadRequest(description="format must be csv or jsonl")
        params = {name: req.get_param(name) for name in EXPORT_FILTERS}
        filters = {name: value for name, value in params.items() if value}
        try:
            download = self.deps.clients.feedback.export({**filters, "format": fmt})
        except UpstreamError as error:
            self.failed(req, resp, error, "The export failed")
            return
        resp.content_type = download.content_type
        if download.disposition:
            resp.set_header("Content-Disposition", download.disposition)
        resp.stream = download.chunks


class FeedbackItem(_Resource):
    """Hide, unhide, delete (with a confirmation page) one feedback entry."""

    def on_get_delete(self, req: falcon.Request, resp: falcon.Response, feedback_id: int) -> None:
        back = views.safe_next(req.get_param("back") or views.FEEDBACK_PATH)
        self.show(req, resp, pages.confirm_delete(self.deps.clients, feedback_id, back))

    def on_post_hide(self, req: falcon.Request, resp: falcon.Response, feedback_id: int) -> None:
        self._moderate(req, resp, "hide", feedback_id)

    def on_post_unhide(self, req: falcon.Request, resp: falcon.Response, feedback_id: int) -> None:
        self._moderate(req, resp, "unhide", feedback_id)

    def on_post_delete(self, req: falcon.Request, resp: falcon.Response, feedback_id: int) -> None:
        self._moderate(req, resp, "delete", feedback_id)

    def _moderate(
        self, req: falcon.Request, resp: falcon.Response, action: str, feedback_id: int
    ) -> None:
        try:
            done = pages.moderate(self.deps.clients, action, feedback_id)
        except UpstreamError as error:
            self.failed(req, resp, error, f"Feedback #{feedback_id} was not changed")
            return
        log.info("feedback %s: %s", feedback_id, done, extra=_client(req))
        back = form_field(req, "back") or views.FEEDBACK_PATH
        redirect(resp, views.with_notice(back, done, feedback_id))


class Statistics(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = views.parse_stats_query(req.params)
        self.show(req, resp, pages.statistics(self.deps.clients, query))


class Catalog(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.show(req, resp, pages.catalog(self.deps.clients))


class CatalogEntry(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, kind: str, entry_id: str) -> None:
        if kind not in CATALOG_KINDS or not views.TARGET_ID.fullmatch(entry_id):
            raise falcon.HTTPNotFound(description="No such catalog entry")
        self.show(req, resp, pages.catalog_entry(self.deps.clients, kind, entry_id))
