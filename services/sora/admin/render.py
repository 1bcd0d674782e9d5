"""Jinja2 templates and the static files they link to.

Autoescaping is on for every template, so anything an API returns (comments,
ids, names) is shown as text. Static files are read once at start and linked
with a content hash (``admin.css?v=…``), so browsers may cache them for long.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, Final

import falcon
import jinja2

from sora.admin.sessions import Session, SessionCodec
from sora.common import web

STATIC_NAMES: Final = ("admin.css", "admin.js", "favicon.svg")
STATIC_PREFIX: Final = "/admin/static/"
_UNITS: Final = ("B", "KiB", "MiB", "GiB", "TiB")


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    version: str


def load_static() -> dict[str, StaticFile]:
    folder = resources.files("sora.admin") / "static"
    files = {}
    for name in STATIC_NAMES:
        body = (folder / name).read_bytes()
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        files[name] = StaticFile(body, content_type, hashlib.sha256(body).hexdigest()[:12])
    return files


def size(value: int) -> str:
    """Bytes for people: ``512 B``, ``12.3 KiB``."""
    amount = float(value)
    for unit in _UNITS:
        if amount < 1024 or unit == _UNITS[-1]:
            return f"{value} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def moment(value: str | None) -> str:
    """An API timestamp (ISO 8601) as ``2024-05-31 09:00 UTC``; unparseable text as is."""
    if not value:
        return "\u2014"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    offset = parsed.utcoffset()
    if offset is not None and offset.total_seconds() == 0:
        return parsed.strftime("%Y-%m-%d %H:%M UTC")
    return parsed.strftime("%Y-%m-%d %H:%M %z").strip()


def average(value: float | None) -> str:
    return "\u2014" if value is None else f"{value:.2f}"


def sentence(text: str) -> str:
    """First letter upper case, the rest untouched (Jinja's ``capitalize`` lowers "API")."""
    return text[:1].upper() + text[1:]


def stars(rating: int) -> str:
    rating = max(0, min(5, rating))
    return "\u2605" * rating + "\u2606" * (5 - rating)


class Renderer:
    """Renders pages with what every page needs: the session's CSRF token, links, notices."""

    def __init__(self, codec: SessionCodec, static: dict[str, StaticFile], environment: str):
        self._codec = codec
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("sora.admin", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(
            size=size, moment=moment, average=average, stars=stars, sentence=sentence
        )
        self._env.globals.update(
            static=lambda name: f"{STATIC_PREFIX}{name}?v={static[name].version}",
            environment=environment,
        )

    def html(self, req: falcon.Request, template: str, **context: Any) -> str:
        session: Session | None = getattr(req.context, "session", None)
        signed_in = session is not None and session.signed_in
        base = {
            "path": req.path,
            "signed_in": signed_in,
            "csrf_token": self._codec.csrf_token(session) if session else "",
            "notice": None,
            "problems": [],
        }
        return self._env.get_template(template).render({**base, **context})

    def page(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        template: str,
        status: int = 200,
        **context: Any,
    ) -> None:
        resp.status = status
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.html(req, template, status=status, **context)

    def error_serializer(self) -> Any:
        """Errors as an HTML page for browsers on the panel's paths, else the JSON shape."""

        def serialize(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
            body = web.error_body(error)
            wants_html = (
                req.path.startswith("/admin")
                and req.client_prefers((falcon.MEDIA_JSON, falcon.MEDIA_HTML)) == falcon.MEDIA_HTML
            )
            if wants_html:
                resp.content_type = falcon.MEDIA_HTML
                resp.text = self.html(
                    req, "error.html", status=error.status_code, message=body["error"]
                )
            else:
                resp.content_type = falcon.MEDIA_JSON
                resp.text = json.dumps(body)
            resp.append_header("Vary", "Accept")

        return serialize
