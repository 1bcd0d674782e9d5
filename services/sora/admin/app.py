"""Wiring: settings in, the admin panel's Falcon app out.

The panel serves everything under ``/admin`` (the gateway and the Ingress pass
``/admin*`` through unchanged), plus ``/health`` and ``/metrics``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import falcon

from sora.admin import resources
from sora.admin.clients import CatalogClient, FeedbackClient
from sora.admin.middleware import SecurityHeaders, Sessions
from sora.admin.pages import Clients
from sora.admin.render import Renderer, load_static
from sora.admin.sessions import SessionCodec
from sora.admin.settings import AdminSettings
from sora.common import web

FEEDBACK_ID = "{feedback_id:int(min=1, max=9223372036854775807)}"


def create_app(
    settings: AdminSettings, *, clock: Callable[[], float] = time.time
) -> falcon.App[falcon.Request, falcon.Response]:
    upstreams = settings.upstreams
    timeout = (upstreams.connect_timeout, upstreams.read_timeout)
    codec = SessionCodec(
        settings.session_secret, settings.admin_token, settings.session_lifetime_seconds
    )
    static = load_static()
    renderer = Renderer(codec, static, settings.shared.environment)
    deps = resources.Deps(
        clients=Clients(
            feedback=FeedbackClient(upstreams.feedback_api_url, settings.admin_token, timeout),
            catalog=CatalogClient(upstreams.file_server_url, timeout),
        ),
        renderer=renderer,
        codec=codec,
        admin_token=settings.admin_token,
        secure_cookies=not settings.shared.is_development,
    )
    # The panel is same-origin only: it answers no cross-origin (CORS) requests at all.
    shared = dataclasses.replace(settings.shared, allowed_origins=())
    app = web.create_app(
        shared,
        cors_methods="GET, POST",
        extra_middleware=[
            SecurityHeaders(settings.shared.is_development),
            Sessions(codec, clock),
        ],
    )
    app.set_error_serializer(renderer.error_serializer())
    _routes(app, deps, resources.Static(static))
    return app


def _routes(
    app: falcon.App[falcon.Request, falcon.Response],
    deps: resources.Deps,
    static: resources.Static,
) -> None:
    item = resources.FeedbackItem(deps)
    app.add_route("/health", resources.Health())
    app.add_route("/admin", resources.Overview(deps))
    app.add_route("/admin/login", resources.SignIn(deps))
    app.add_route("/admin/logout", resources.SignOut(deps))
    app.add_route("/admin/feedback", resources.FeedbackList(deps))
    app.add_route("/admin/feedback/export", resources.FeedbackExport(deps))
    app.add_route(f"/admin/feedback/{FEEDBACK_ID}/hide", item, suffix="hide")
    app.add_route(f"/admin/feedback/{FEEDBACK_ID}/unhide", item, suffix="unhide")
    app.add_route(f"/admin/feedback/{FEEDBACK_ID}/delete", item, suffix="delete")
    app.add_route("/admin/stats", resources.Statistics(deps))
    app.add_route("/admin/catalog", resources.Catalog(deps))
    app.add_route("/admin/catalog/{kind}/{entry_id}", resources.CatalogEntry(deps))
    app.add_route("/admin/static/{name}", static)
