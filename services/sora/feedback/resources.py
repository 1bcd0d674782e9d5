"""HTTP resources: parse the request, call one use case, render the answer. Nothing more.

Rate limits are named per method in ``rate_limits`` and applied by
:class:`~sora.feedback.ratelimit.RateLimitMiddleware` (which lets requests with
the admin token through); admin responders are guarded by the ``admin_only``
hook (bearer ``ADMIN_TOKEN``, :class:`~sora.feedback.auth.AdminGuard`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

import falcon

from sora.common.web import ApiError
from sora.feedback import domain, export, schemas, telemetry, validation, views
from sora.feedback.auth import AdminGuard
from sora.feedback.catalog import TargetCatalog
from sora.feedback.crypto import Keyring
from sora.feedback.model import utc_day
from sora.feedback.store import FeedbackStore, StorageUnavailableError

log = logging.getLogger("sora.feedback")
PUBLIC_CACHE: Final = "public, max-age=15"
#: A kept read whose figures move with the clock is answered within this second only.
KEPT_WITHIN_MS: Final = 1000
_WWW_AUTHENTICATE: Final = {"WWW-Authenticate": 'Bearer realm="sora-feedback"'}


@dataclass(frozen=True)
class Deps:
    store: FeedbackStore
    keyring: Keyring
    guard: AdminGuard
    clock: Callable[[], int]
    catalog: TargetCatalog
    removed_targets: domain.RemovedTargets
    read_bodies: domain.KeptBodies


def admin_only(req: falcon.Request, resp: falcon.Response, resource: Any, params: Any) -> None:
    if not resource.deps.guard.allows(req.get_header("Authorization")):
        telemetry.ADMIN_DENIED.inc()
        raise ApiError(401, "Authentication required", headers=_WWW_AUTHENTICATE)
    resp.cache_control = ["no-store"]


def read_json(req: falcon.Request) -> dict[str, Any]:
    """The body as a JSON object: 413 over 1 MiB, 415 unless JSON, 400 unless an object."""
    if (req.content_length or 0) > schemas.MAX_BODY_BYTES:
        raise _too_large()
    media_type = (req.content_type or "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        telemetry.REJECTED.labels("media_type").inc()
        raise ApiError(415, "Content-Type must be application/json", expected="application/json")
    # Without Content-Length (chunked), gunicorn's input stream ends where the body does.
    stream = req.bounded_stream if req.content_length is not None else req.stream
    raw = stream.read(schemas.MAX_BODY_BYTES + 1)
    if len(raw) > schemas.MAX_BODY_BYTES:
        raise _too_large()
    return validation.parse_json_object(raw)


def _too_large() -> ApiError:
    telemetry.REJECTED.labels("too_large").inc()
    return ApiError(413, "Request body is larger than 1 MiB", max_bytes=schemas.MAX_BODY_BYTES)


class _Resource:
    rate_limits: ClassVar[dict[str, str]] = {"GET": "read"}

    def __init__(self, deps: Deps) -> None:
        self.deps = deps


class FeedbackCollection(_Resource):
    """``POST /api/feedback`` (public) and ``GET /api/feedback`` (admin list)."""

    rate_limits: ClassVar[dict[str, str]] = {"POST": "submit", "GET": "read"}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            submission = validation.parse_submission(read_json(req))
        except validation.ValidationError:
            telemetry.REJECTED.labels("validation").inc()
            raise
        result = domain.submit(
            self.deps.store,
            self.deps.keyring,
            self.deps.catalog.for_writes(),
            submission,
            client_hash=req.context.client_hash,
            at_ms=self.deps.clock(),
        )
        telemetry.SUBMITTED.labels(
            submission.target.type, "replaced" if result.replaced else "created"
        ).inc()
        resp.status = falcon.HTTP_201
        resp.media = {"id": result.id, "replaced": result.replaced}

    @falcon.before(admin_only)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = validation.parse_admin_list_query(req.params)
        entries, cursor = domain.admin_page(self.deps.store, self.deps.keyring, query)
        telemetry.ADMIN_ACTIONS.labels("list").inc()
        telemetry.DECRYPT_FAILURES.inc(sum(entry.comment_unavailable for entry in entries))
        resp.media = views.admin_page(entries, cursor)


class FeedbackExport(_Resource):
    """``GET /api/feedback/export?format=csv|jsonl`` (admin), streamed."""

    @falcon.before(admin_only)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = validation.parse_query(schemas.ExportQuery, req.params)
        entries = _counting_failures(
            domain.export_entries(self.deps.store, self.deps.keyring, query.filters)
        )
        fmt = query.format
        telemetry.ADMIN_ACTIONS.labels("export").inc()
        resp.content_type = export.MEDIA_TYPES[fmt]
        resp.downloadable_as = f"feedback-{datetime.now(UTC):%Y%m%d}.{fmt}"
        resp.stream = export.csv_lines(entries) if fmt == "csv" else export.jsonl_lines(entries)


def _counting_failures(entries: Iterator[domain.AdminEntry]) -> Iterator[domain.AdminEntry]:
    for entry in entries:
        if entry.comment_unavailable:
            telemetry.DECRYPT_FAILURES.inc()
        yield entry


class FeedbackItem(_Resource):
    """``DELETE /api/feedback/{id}``, ``POST /api/feedback/{id}/hide|unhide`` (admin)."""

    rate_limits: ClassVar[dict[str, str]] = {"POST": "read", "DELETE": "read"}

    @falcon.before(admin_only)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, feedback_id: int) -> None:
        self._found(self.deps.store.delete(feedback_id), "delete")
        resp.status = falcon.HTTP_204

    @falcon.before(admin_only)
    def on_post_hide(self, req: falcon.Request, resp: falcon.Response, feedback_id: int) -> None:
        self._found(self.deps.store.set_hidden(feedback_id, True), "hide")
        resp.media = {"id": feedback_id, "hidden": True}

    @falcon.before(admin_only)
    def on_post_unhide(self, req: falcon.Request, resp: falcon.Response, feedback_id: int) -> None:
        self._found(self.deps.store.set_hidden(feedback_id, False), "unhide")
        resp.media = {"id": feedback_id, "hidden": False}

    @staticmethod
    def _found(found: bool, action: str) -> None:
        if not found:
            raise ApiError(404, "No feedback with this id")
        telemetry.ADMIN_ACTIONS.labels(action).inc()


class _PublicRead(_Resource):
    """A public read whose rendered body is kept (:class:`~sora.feedback.domain.KeptBodies`)
    under the store's data version and ``parts``: everything else the body is made from."""

    def _answer(
        self, resp: falcon.Response, parts: tuple[Hashable, ...], render: Callable[[], object]
    ) -> None:
        resp.cache_control = [PUBLIC_CACHE]
        version = self.deps.store.data_version()  # before the reads it vouches for
        key = None if version is None else (type(self).__name__, version, *parts)
        kept = self.deps.read_bodies.get(key)
        if kept is not None:
            resp.content_type = falcon.MEDIA_JSON
            resp.data = kept
            return
        resp.media = render()
        self.deps.read_bodies.keep(key, resp.render_body())


class Recommendations(_PublicRead):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = validation.parse_recommendations_query(req.params)
        listed = self.deps.catalog.for_reads()
        at_ms = self.deps.clock()
        self._answer(
            resp,
            (query, listed, at_ms // KEPT_WITHIN_MS),  # trending moves with the clock
            lambda: views.recommendations(
                query, domain.recommendations(self.deps.store, listed, query, at_ms)
            ),
        )


class Stats(_PublicRead):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = validation.parse_stats_query(req.params)
        listed = self.deps.catalog.for_reads()
        at_ms = self.deps.clock()

        def render() -> schemas.Stats:
            removed = self.deps.removed_targets(self.deps.store, listed)
            stats = domain.statistics(self.deps.store, listed, removed, query, at_ms)
            return views.statistics(stats, query.days)

        self._answer(resp, (query, listed, utc_day(at_ms)), render)


class TargetStats(_PublicRead):
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, target_type: str, target_id: str
    ) -> None:
        target = validation.parse_target(target_type, target_id)
        days = validation.parse_query(schemas.TargetStatsQuery, req.params).days
        listed = self.deps.catalog.for_reads()
        at_ms = self.deps.clock()
        self._answer(
            resp,
            (target, days, listed, at_ms // KEPT_WITHIN_MS),  # trending moves with the clock
            lambda: views.target_statistics(
                domain.target_statistics(self.deps.store, listed, target, days, at_ms), days
            ),
        )


class Health(_Resource):
    """200 when the database answers and accepts a write; 503 otherwise. The catalog's state
    is reported but does not fail the check: reads and admin work without the file server."""

    rate_limits: ClassVar[dict[str, str]] = {}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            self.deps.store.check_writable()
        except StorageUnavailableError as error:
            log.error("health check failed: %s", error)
            raise ApiError(503, "Database unavailable", database="unavailable") from None
        resp.cache_control = ["no-store"]
        resp.media = {"status": "ok", "catalog": self.deps.catalog.state()}
