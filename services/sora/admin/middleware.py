"""Cross-cutting rules of the panel: who may see a page, CSRF on every POST, security headers.

Every resource under ``/admin`` needs a signed-in session unless it says
``public = True`` (sign-in, static files). Every POST under ``/admin``, the
sign-in form included, must carry the CSRF token of the caller's session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlencode

import falcon

from sora.admin import telemetry
from sora.admin.sessions import COOKIE_NAME, COOKIE_PATH, Session, SessionCodec
from sora.admin.views import safe_next
from sora.common.web import ApiError

MAX_FORM_BYTES: Final = 16 * 1024
FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
CSP: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def set_session_cookie(
    resp: falcon.Response, codec: SessionCodec, session: Session, now: float, secure: bool
) -> None:
    resp.set_cookie(
        COOKIE_NAME,
        codec.encode(session),
        max_age=session.remaining(now),
        path=COOKIE_PATH,
        secure=secure,
        http_only=True,
        same_site="Strict",
    )


def clear_session_cookie(resp: falcon.Response) -> None:
    resp.unset_cookie(COOKIE_NAME, same_site="Strict", path=COOKIE_PATH)


def form_field(req: falcon.Request, name: str) -> str | None:
    """One field of the POSTed form (read and checked by :class:`Sessions`)."""
    form: dict[str, str] = getattr(req.context, "form", {})
    return form.get(name)


class Sessions:
    """Loads the session from its cookie, sends strangers to sign in, checks CSRF tokens."""

    def __init__(self, codec: SessionCodec, clock: Callable[[], float] = time.time) -> None:
        self._codec = codec
        self._clock = clock

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        if resource is None or not req.path.startswith("/admin"):
            return
        now = self._clock()
        cookie = self._cookie_session(req)
        session = cookie if cookie is not None and cookie.active(now) else None
        req.context.session = session
        req.context.now = now
        if not getattr(resource, "public", False) and (session is None or not session.signed_in):
            expired = cookie is not None and cookie.signed_in and session is None
            raise falcon.HTTPSeeOther(self._sign_in_url(req, expired))
        if req.method == "POST":
            req.context.form = _read_form(req)
            if not self._codec.csrf_valid(session, req.context.form.get("csrf_token")):
                telemetry.CSRF_REFUSED.inc()
                raise ApiError(
                    403,
                    "This form has expired or did not come from this panel:"
                    " reload the page and try again",
                )

    def _cookie_session(self, req: falcon.Request) -> Session | None:
        for value in req.get_cookie_values(COOKIE_NAME) or ():
            session = self._codec.decode(value)
            if session is not None:
                return session
        return None

    @staticmethod
    def _sign_in_url(req: falcon.Request, expired: bool) -> str:
        query = {"notice": "expired" if expired else "signed_in_required"}
        if req.method in ("GET", "HEAD"):
            query["next"] = safe_next(req.relative_uri)
        return f"/admin/login?{urlencode(query)}"


def _read_form(req: falcon.Request) -> dict[str, str]:
    media_type = (req.content_type or "").partition(";")[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        return {}
    if (req.content_length or 0) > MAX_FORM_BYTES:
        raise ApiError(413, "The form is too large")
    raw = req.bounded_stream.read(MAX_FORM_BYTES + 1)
    if len(raw) > MAX_FORM_BYTES:
        raise ApiError(413, "The form is too large")
    fields = falcon.uri.parse_query_string(
        raw.decode("utf-8", "replace"), keep_blank=True, csv=False
    )
    return {key: value[-1] if isinstance(value, list) else value for key, value in fields.items()}


class SecurityHeaders:
    """A strict Content-Security-Policy and friends on every answer; no caching of pages."""

    def __init__(self, development: bool) -> None:
        self._headers = {
            "Content-Security-Policy": CSP,
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        }
        if not development:
            self._headers["Strict-Transport-Security"] = "max-age=31536000"

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        resp.set_headers(self._headers)
        if resp.get_header("Cache-Control") is None:
            resp.cache_control = ["no-store"]
