"""The OpenAPI 3.1 document served at ``/openapi.json``.

Every schema and parameter in it is generated from ``schemas.py``, the types that
validate the requests; written here is only what is not shape: paths, operations,
summaries, status codes and headers.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from sora.common import schemas as common
from sora.common.openapi import JSON, components, json_response, parameters, ref
from sora.feedback import schemas
from sora.feedback.export import MEDIA_TYPES

Json = dict[str, Any]
_RETRY_AFTER: Final = {"Retry-After": {"description": "seconds", "schema": {"type": "string"}}}
_WWW_AUTHENTICATE: Final = {"WWW-Authenticate": {"schema": {"type": "string"}}}

# name: (status, description, body schema, headers)
_ERRORS: Final[dict[str, tuple[str, str, str, Json | None]]] = {
    "BadRequest": (
        "400",
        "Invalid input; `field` and `rule` say what to fix",
        "InvalidInput",
        None,
    ),
    "Unauthorized": ("401", "Missing or wrong bearer token", "Error", _WWW_AUTHENTICATE),
    "NotFound": ("404", "No such feedback or route", "Error", None),
    "TooLarge": ("413", f"Body over {schemas.MAX_BODY_BYTES} bytes", "Error", None),
    "UnsupportedMediaType": ("415", "Content-Type is not application/json", "Error", None),
    "UnknownTarget": (
        "422",
        "The target is not in the file server's catalog",
        "UnknownTarget",
        None,
    ),
    "TooManyRequests": ("429", "Rate limit reached for this client", "RateLimited", _RETRY_AFTER),
    "Unavailable": (
        "503",
        "The database, or the file server's catalog, is unavailable; retry later",
        "Error",
        _RETRY_AFTER,
    ),
}
_READ_ERRORS: Final = ("BadRequest", "TooManyRequests", "Unavailable")
_ADMIN_ERRORS: Final = ("Unauthorized", "TooManyRequests", "Unavailable")


def _errors(*names: str) -> Json:
    return {_ERRORS[name][0]: {"$ref": f"#/components/responses/{name}"} for name in names}


def _operation(
    operation_id: str, tag: str, summary: str, ok: Json, *errors: str, **extra: Any
) -> Json:
    """An operation answering 200 with ``ok``, or one of the named error responses."""
    return {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        **extra,
        "responses": {"200": ok, **_errors(*errors)},
    }


def _admin(operation: Json) -> Json:
    return {**operation, "security": [{"adminBearer": []}]}


def _feedback_paths() -> Json:
    return {
        "/api/feedback": {
            "post": {
                "operationId": "submitFeedback",
                "tags": ["feedback"],
                "summary": "Rate an extension or a layout of the catalog, with an optional comment",
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("FeedbackSubmission")}},
                },
                "responses": {
                    "201": json_response("Stored", ref("SubmitResult")),
                    **_errors("TooLarge", "UnsupportedMediaType", "UnknownTarget", *_READ_ERRORS),
                },
            },
            "get": _admin(
                _operation(
                    "listFeedback",
                    "admin",
                    "List feedback, newest first, with comments decrypted",
                    json_response("A page", ref("AdminFeedbackPage")),
                    "BadRequest",
                    *_ADMIN_ERRORS,
                    parameters=parameters(schemas.AdminListQuery),
                )
            ),
        },
        "/api/feedback/export": {
            "get": _admin(
                _operation(
                    "exportFeedback",
                    "admin",
                    "Export matching feedback as CSV or JSON lines",
                    {
                        "description": "The export, streamed",
                        "content": {
                            media.partition(";")[0]: {"schema": {"type": "string"}}
                            for media in MEDIA_TYPES.values()
                        },
                    },
                    "BadRequest",
                    *_ADMIN_ERRORS,
                    parameters=parameters(schemas.ExportQuery),
                )
            ),
        },
        "/api/feedback/{feedback_id}": {
            "delete": _admin(
                {
                    "operationId": "deleteFeedback",
                    "tags": ["admin"],
                    "summary": "Delete one entry (its rating leaves the statistics)",
                    "parameters": parameters(schemas.FeedbackRef, "path"),
                    "responses": {
                        "204": {"description": "Deleted"},
                        **_errors("NotFound", *_ADMIN_ERRORS),
                    },
                }
            ),
        },
        **{
            f"/api/feedback/{{feedback_id}}/{action}": {
                "post": _admin(
                    _operation(
                        f"{action}Feedback",
                        "admin",
                        f"{action.capitalize()} one entry"
                        + (" (it leaves the public statistics)" if action == "hide" else ""),
                        json_response("Done", ref("Visibility")),
                        "NotFound",
                        *_ADMIN_ERRORS,
                        parameters=parameters(schemas.FeedbackRef, "path"),
                    )
                )
            }
            for action in ("hide", "unhide")
        },
    }


# path: (operationId, summary, 200's description, its schema, the query string)
_PUBLIC_LISTINGS: Final = {
    "/api/recommendations": (
        "recommendations",
        "Ranked extensions and layouts (only those in the catalog)",
        "Ranked targets",
        "Recommendations",
        schemas.RecommendationsQuery,
    ),
    "/api/stats": (
        "stats",
        "Totals, the most rated targets and daily counts (catalog only)",
        "Statistics",
        "Stats",
        schemas.StatsQuery,
    ),
}


def _public_paths() -> Json:
    paths = {
        path: {
            "get": _operation(
                operation_id,
                "public",
                summary,
                json_response(description, ref(schema)),
                *_READ_ERRORS,
                parameters=parameters(query),
            )
        }
        for path, (operation_id, summary, description, schema, query) in _PUBLIC_LISTINGS.items()
    }
    target_stats = _operation(
        "targetStats",
        "public",
        "One target's count, average, histogram and daily counts",
        json_response("Statistics (zero counts for a target nobody rated)", ref("TargetStats")),
        *_READ_ERRORS,
        parameters=[
            *parameters(schemas.TargetRef, "path"),
            *parameters(schemas.TargetStatsQuery),
        ],
    )
    # 404 rather than 422: the unknown target is in the path, not in a body
    target_stats["responses"]["404"] = {"$ref": "#/components/responses/UnknownTarget"}
    return {**paths, "/api/stats/{target_type}/{target_id}": {"get": target_stats}}


def _operations_paths() -> Json:
    text = {
        "description": "Text exposition format",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    return {
        "/health": {
            "get": _operation(
                "health",
                "operations",
                "The database answers and accepts a write",
                json_response("Healthy", ref("Health")),
                "Unavailable",
            )
        },
        "/metrics": {"get": _operation("metrics", "operations", "Prometheus metrics", text)},
        "/openapi.json": {
            "get": _operation(
                "openapi",
                "operations",
                "This document",
                json_response("OpenAPI 3.1", {"type": "object"}),
            )
        },
    }


@cache
def document() -> Json:
    """Built once (the schemas take a few milliseconds); callers must not change it."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Sora feedback API",
            "version": "1.0.0",
            "description": "Ratings and comments for Sora extensions and layouts, and the "
            "recommendations and statistics derived from them. Every error body is JSON: "
            '`{"error": "<short message>", ...details}`.',
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "feedback", "description": "Submitting feedback"},
            {"name": "public", "description": "Recommendations and statistics"},
            {"name": "admin", "description": "Moderation and export (bearer ADMIN_TOKEN)"},
            {"name": "operations", "description": "Health, metrics, this document"},
        ],
        "paths": {**_feedback_paths(), **_public_paths(), **_operations_paths()},
        "components": {
            "schemas": components(
                schemas.FeedbackSubmission,
                schemas.SubmitResult,
                schemas.Recommendations,
                schemas.Stats,
                schemas.TargetStats,
                schemas.AdminFeedbackPage,
                schemas.Visibility,
                schemas.Health,
                common.Error,
                common.InvalidInput,
                schemas.UnknownTarget,
                schemas.RateLimited,
            ),
            "responses": {
                name: json_response(description, ref(schema), headers)
                for name, (_, description, schema, headers) in _ERRORS.items()
            },
            "securitySchemes": {
                "adminBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The ADMIN_TOKEN setting",
                }
            },
        },
    }
