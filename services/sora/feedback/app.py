"""The Falcon application: shared plumbing from ``sora.common.web`` plus our routes.

Built once in the gunicorn master, before it forks: nothing here opens a
database connection or starts a thread (the one worker opens its connections
and starts its writer on first use).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import falcon

from sora.common import web
from sora.feedback import domain, engines, openapi, resources, schemas, telemetry
from sora.feedback.auth import AdminGuard
from sora.feedback.catalog import (
    Catalog,
    CatalogUnavailableError,
    FileServerCatalog,
    TargetCatalog,
)
from sora.feedback.crypto import Keyring
from sora.feedback.ratelimit import Limit, RateLimitMiddleware, TokenBuckets
from sora.feedback.settings import CatalogSettings, FeedbackSettings, RateLimitSettings
from sora.feedback.store import FeedbackStore, StorageUnavailableError

CORS_METHODS = "GET, POST, DELETE, OPTIONS"
_RETRY_SOON: Final = {"Retry-After": "1"}


def create_app(
    settings: FeedbackSettings,
    *,
    store: FeedbackStore | None = None,
    catalog: TargetCatalog | None = None,
    clock: Callable[[], int] = domain.now_ms,
) -> falcon.App[falcon.Request, falcon.Response]:
    deps = resources.Deps(
        store=store or open_store(settings),
        keyring=Keyring(settings.keys.current, settings.keys.old),
        guard=AdminGuard(settings.admin_token),
        clock=clock,
        catalog=catalog or _file_server_catalog(settings.catalog),
        removed_targets=domain.RemovedTargets(settings.catalog.ttl_seconds),
        read_bodies=domain.KeptBodies(),
    )
    app = web.create_app(
        settings.shared,
        cors_methods=CORS_METHODS,
        extra_middleware=_rate_limiting(settings.rate_limit, deps.guard),
        openapi=openapi.document(),
    )
    app.add_error_handler(StorageUnavailableError, _unavailable)
    app.add_error_handler(domain.UnknownTargetError, _unknown_target)
    app.add_error_handler(CatalogUnavailableError, _catalog_unavailable)
    _routes(app, deps)
    return app


def open_store(settings: FeedbackSettings) -> FeedbackStore:
    """The configured store; it opens its connections on first use, in the worker."""
    return engines.open_store(settings.storage, telemetry.observe_commit)


def _file_server_catalog(settings: CatalogSettings) -> Catalog:
    return Catalog(
        FileServerCatalog(settings.file_server_url).fetch,
        ttl_seconds=settings.ttl_seconds,
        max_age_seconds=settings.max_age_seconds,
        observe=telemetry.observe_catalog_refresh,
    )


def _rate_limiting(settings: RateLimitSettings, admin: AdminGuard) -> list[object]:
    if not settings.enabled:
        return []
    limits = {
        "submit": Limit("submit", settings.submit_per_minute / 60, settings.submit_burst),
        "read": Limit("read", settings.read_per_minute / 60, settings.read_burst),
    }
    return [RateLimitMiddleware(TokenBuckets(settings.slots), limits, admin=admin)]


def _routes(app: falcon.App[falcon.Request, falcon.Response], deps: resources.Deps) -> None:
    item = resources.FeedbackItem(deps)
    feedback_id = f"{{feedback_id:int(min=1, max={schemas.MAX_ID})}}"  # schemas.FeedbackRef
    app.add_route("/api/feedback", resources.FeedbackCollection(deps))
    app.add_route("/api/feedback/export", resources.FeedbackExport(deps))
    app.add_route(f"/api/feedback/{feedback_id}", item)
    app.add_route(f"/api/feedback/{feedback_id}/hide", item, suffix="hide")
    app.add_route(f"/api/feedback/{feedback_id}/unhide", item, suffix="unhide")
    app.add_route("/api/recommendations", resources.Recommendations(deps))
    app.add_route("/api/stats", resources.Stats(deps))
    app.add_route("/api/stats/{target_type}/{target_id}", resources.TargetStats(deps))
    app.add_route("/health", resources.Health(deps))


def _unavailable(
    req: falcon.Request,
    resp: falcon.Response,
    error: StorageUnavailableError,
    params: dict[str, Any],
) -> None:
    web.log.error("storage unavailable serving %s %s: %s", req.method, req.path, error)
    raise web.ApiError(503, "Storage unavailable, retry later", headers=_RETRY_SOON)


def _unknown_target(
    req: falcon.Request,
    resp: falcon.Response,
    error: domain.UnknownTargetError,
    params: dict[str, Any],
) -> None:
    """422 for a body naming a target the catalog lacks; 404 for such a path."""
    submitted = req.method == "POST"
    if submitted:
        telemetry.REJECTED.labels("unknown_target").inc()
    target = error.target
    raise web.ApiError(
        422 if submitted else 404,
        f"No {target.type} with this id in the catalog",
        field="target_id",
        rule="catalog",
        target_type=target.type,
        target_id=target.id,
    )


def _catalog_unavailable(
    req: falcon.Request,
    resp: falcon.Response,
    error: CatalogUnavailableError,
    params: dict[str, Any],
) -> None:
    web.log.error("catalog unavailable serving %s %s: %s", req.method, req.path, error)
    if req.method == "POST":
        telemetry.REJECTED.labels("catalog_unavailable").inc()
    raise web.ApiError(
        503, "Catalog unavailable, retry later", catalog="unavailable", headers=_RETRY_SOON
    )
