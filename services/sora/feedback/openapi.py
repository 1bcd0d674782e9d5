"""The OpenAPI 3.1 document served at ``/openapi.json``, built from the same constants
the validators use (patterns, limits, enumerations)."""

from __future__ import annotations

from typing import Any, Final, get_args

from sora.feedback.catalog import CatalogState
from sora.feedback.export import MEDIA_TYPES
from sora.feedback.model import ORDERS, TARGET_TYPES
from sora.feedback.validation import (
    CLIENT_VERSION_PATTERN,
    EXPORT_FORMATS,
    LOCALE_PATTERN,
    MAX_BODY_BYTES,
    MAX_COMMENT_CHARS,
    TARGET_ID_PATTERN,
)

Json = dict[str, Any]
_JSON: Final = "application/json"


def _ref(kind: str, name: str) -> Json:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schema(name: str) -> Json:
    return _ref("schemas", name)


def _nullable(schema: Json) -> Json:
    return {**schema, "type": [schema["type"], "null"]}


def _object(properties: Json, required: list[str] | None = None, **extra: Any) -> Json:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **extra,
    }


def _json_response(description: str, schema: Json, headers: Json | None = None) -> Json:
    response: Json = {"description": description, "content": {_JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


_COUNT: Final = {"type": "integer", "minimum": 0}
_AVERAGE: Final = {"type": ["number", "null"], "minimum": 1, "maximum": 5}
_TARGET_ID: Final = {"type": "string", "pattern": f"^{TARGET_ID_PATTERN}$", "maxLength": 128}
_TARGET_TYPE: Final = {"type": "string", "enum": list(TARGET_TYPES)}

SCHEMAS: Final[Json] = {
    "Error": _object({"error": {"type": "string"}}),
    "ValidationError": _object(
        {
            "error": {"type": "string"},
            "field": {"type": "string", "description": "the offending field or parameter"},
            "rule": {"type": "string", "description": "the rule it broke, e.g. range, enum"},
        }
    ),
    "UnknownTarget": _object(
        {
            "error": {"type": "string"},
            "field": {"type": "string", "enum": ["target_id"]},
            "rule": {"type": "string", "enum": ["catalog"]},
            "target_type": _TARGET_TYPE,
            "target_id": {"type": "string"},
        },
        description="The file server's catalog has no such extension or layout",
    ),
    "RateLimited": _object({"error": {"type": "string"}, "retry_after": {"type": "integer"}}),
    "Histogram": _object(
        {str(rating): _COUNT for rating in range(1, 6)},
        description="number of ratings per star value",
    ),
    "FeedbackSubmission": _object(
        {
            "target_type": _TARGET_TYPE,
            "target_id": _TARGET_ID,
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "comment": {
                "type": ["string", "null"],
                "maxLength": MAX_COMMENT_CHARS,
                "description": "stored encrypted; only admins can read it",
            },
            "client_version": _nullable(
                {"type": "string", "pattern": f"^{CLIENT_VERSION_PATTERN}$"}
            ),
            "locale": _nullable({"type": "string", "pattern": f"^{LOCALE_PATTERN}$"}),
        },
        required=["target_type", "target_id", "rating"],
        description="One rating per client and target: a newer one replaces the older.",
    ),
    "SubmitResult": _object(
        {
            "id": {"type": "integer", "minimum": 1},
            "replaced": {
                "type": "boolean",
                "description": "true when this replaced the client's earlier rating (same id)",
            },
        }
    ),
    "RankedTarget": _object(
        {
            "target_type": _TARGET_TYPE,
            "target_id": {"type": "string"},
            "count": _COUNT,
            "average": _AVERAGE,
            "score": {"type": "number", "description": "Bayesian average (docs/feedback-api.md)"},
            "trending": {"type": "number", "minimum": 0, "description": "decayed positive mass"},
            "histogram": _schema("Histogram"),
        }
    ),
    "Recommendations": _object(
        {
            "order": {"type": "string", "enum": list(ORDERS)},
            "kind": {"type": ["string", "null"], "enum": [*TARGET_TYPES, None]},
            "items": {"type": "array", "items": _schema("RankedTarget")},
        }
    ),
    "Totals": _object(
        {
            "count": _COUNT,
            "average": _AVERAGE,
            "histogram": _schema("Histogram"),
            "targets": {**_COUNT, "description": "targets with at least one visible rating"},
        }
    ),
    "DayCount": _object(
        {"date": {"type": "string", "format": "date"}, "count": _COUNT, "average": _AVERAGE}
    ),
    "TargetCount": _object(
        {
            "target_type": _TARGET_TYPE,
            "target_id": {"type": "string"},
            "count": _COUNT,
            "average": _AVERAGE,
            "histogram": _schema("Histogram"),
        }
    ),
    "Stats": _object(
        {
            "totals": _schema("Totals"),
            "by_type": _object({kind: _schema("Totals") for kind in TARGET_TYPES}),
            "targets": {"type": "array", "items": _schema("TargetCount")},
            "days": {"type": "integer", "minimum": 1, "maximum": 365},
            "daily": {"type": "array", "items": _schema("DayCount")},
        }
    ),
    "TargetStats": _object(
        {
            "target_type": _TARGET_TYPE,
            "target_id": {"type": "string"},
            "count": _COUNT,
            "average": _AVERAGE,
            "score": {"type": "number"},
            "trending": {"type": "number", "minimum": 0},
            "histogram": _schema("Histogram"),
            "days": {"type": "integer", "minimum": 1, "maximum": 365},
            "daily": {"type": "array", "items": _schema("DayCount")},
        }
    ),
    "AdminFeedback": _object(
        {
            "id": {"type": "integer", "minimum": 1},
            "target_type": _TARGET_TYPE,
            "target_id": {"type": "string"},
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "comment": {"type": ["string", "null"], "description": "decrypted"},
            "comment_unavailable": {
                "type": "boolean",
                "description": "a comment exists but no configured key opens it",
            },
            "client_version": {"type": ["string", "null"]},
            "locale": {"type": ["string", "null"]},
            "hidden": {"type": "boolean"},
            "client": {"type": "string", "description": "prefix of the salted client hash"},
            "created_at": {"type": "string", "format": "date-time"},
            "submitted_at": {"type": "string", "format": "date-time"},
        }
    ),
    "AdminFeedbackPage": _object(
        {
            "items": {"type": "array", "items": _schema("AdminFeedback")},
            "next_cursor": {
                "type": ["integer", "null"],
                "description": "pass as cursor for the next page; null on the last page",
            },
        }
    ),
    "Visibility": _object({"id": {"type": "integer"}, "hidden": {"type": "boolean"}}),
    "Health": _object(
        {
            "status": {"type": "string", "enum": ["ok"]},
            "catalog": {
                "type": "string",
                "enum": list(get_args(CatalogState)),
                "description": "ok; stale: older than CATALOG_MAX_AGE_SECONDS (submissions get"
                " 503); unavailable: never fetched (submissions and public reads get 503)",
            },
        }
    ),
}

RESPONSES: Final[Json] = {
    "BadRequest": _json_response(
        "Invalid input; `field` and `rule` say what to fix", _schema("ValidationError")
    ),
    "Unauthorized": _json_response(
        "Missing or wrong bearer token",
        _schema("Error"),
        {"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "NotFound": _json_response("No such feedback or route", _schema("Error")),
    "TooLarge": _json_response(f"Body over {MAX_BODY_BYTES} bytes", _schema("Error")),
    "UnsupportedMediaType": _json_response(
        "Content-Type is not application/json", _schema("Error")
    ),
    "TooManyRequests": _json_response(
        "Rate limit reached for this client",
        _schema("RateLimited"),
        {"Retry-After": {"description": "seconds", "schema": {"type": "string"}}},
    ),
    "UnknownTarget": _json_response(
        "The target is not in the file server's catalog", _schema("UnknownTarget")
    ),
    "Unavailable": _json_response(
        "The database, or the file server's catalog, is unavailable; retry later",
        _schema("Error"),
        {"Retry-After": {"description": "seconds", "schema": {"type": "string"}}},
    ),
}


def _query(name: str, schema: Json, description: str) -> Json:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _limit(default: int, maximum: int) -> Json:
    return _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
        "how many items",
    )


_KIND: Final = _query("kind", _TARGET_TYPE, "only extensions or only layouts")
_DAYS: Final = _query(
    "days",
    {"type": "integer", "minimum": 1, "maximum": 365, "default": 30},
    "daily counts for this many days, ending today (UTC)",
)
_MOMENT: Final = {
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]
}
_FILTERS: Final = [
    _query("target_type", _TARGET_TYPE, "filter"),
    _query("target_id", _TARGET_ID, "filter"),
    _query("rating", {"type": "integer", "minimum": 1, "maximum": 5}, "filter"),
    _query("hidden", {"type": "boolean"}, "filter; both when absent"),
    _query("has_comment", {"type": "boolean"}, "filter"),
    _query("locale", {"type": "string", "pattern": f"^{LOCALE_PATTERN}$"}, "filter"),
    _query("since", _MOMENT, "submitted at or after (a date means midnight UTC)"),
    _query("until", _MOMENT, "submitted before (a date means midnight UTC)"),
]
_FEEDBACK_ID: Final = {
    "name": "feedback_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
}


def _errors(*names: str) -> Json:
    codes = {
        "BadRequest": "400",
        "Unauthorized": "401",
        "NotFound": "404",
        "TooLarge": "413",
        "UnsupportedMediaType": "415",
        "UnknownTarget": "422",
        "TooManyRequests": "429",
        "Unavailable": "503",
    }
    return {codes[name]: _ref("responses", name) for name in names}


def _admin(operation: Json) -> Json:
    return {**operation, "tags": ["admin"], "security": [{"adminBearer": []}]}


def _paths() -> Json:
    return {
        "/api/feedback": {
            "post": {
                "operationId": "submitFeedback",
                "tags": ["feedback"],
                "summary": "Rate an extension or a layout of the catalog, with an optional comment",
                "requestBody": {
                    "required": True,
                    "content": {_JSON: {"schema": _schema("FeedbackSubmission")}},
                },
                "responses": {
                    "201": _json_response("Stored", _schema("SubmitResult")),
                    **_errors(
                        "BadRequest",
                        "TooLarge",
                        "UnsupportedMediaType",
                        "UnknownTarget",
                        "TooManyRequests",
                        "Unavailable",
                    ),
                },
            },
            "get": _admin(
                {
                    "operationId": "listFeedback",
                    "summary": "List feedback, newest first, with comments decrypted",
                    "parameters": [
                        *_FILTERS,
                        _limit(50, 200),
                        _query(
                            "cursor",
                            {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                            "next_cursor from the previous page",
                        ),
                    ],
                    "responses": {
                        "200": _json_response("A page", _schema("AdminFeedbackPage")),
                        **_errors("BadRequest", "Unauthorized", "TooManyRequests", "Unavailable"),
                    },
                }
            ),
        },
        "/api/feedback/export": {
            "get": _admin(
                {
                    "operationId": "exportFeedback",
                    "summary": "Export matching feedback as CSV or JSON lines",
                    "parameters": [
                        _query(
                            "format",
                            {"type": "string", "enum": list(EXPORT_FORMATS), "default": "csv"},
                            "csv or jsonl",
                        ),
                        *_FILTERS,
                    ],
                    "responses": {
                        "200": {
                            "description": "The export, streamed",
                            "content": {
                                media.partition(";")[0]: {"schema": {"type": "string"}}
                                for media in MEDIA_TYPES.values()
                            },
                        },
                        **_errors("BadRequest", "Unauthorized", "TooManyRequests", "Unavailable"),
                    },
                }
            ),
        },
        "/api/feedback/{feedback_id}": {
            "delete": _admin(
                {
                    "operationId": "deleteFeedback",
                    "summary": "Delete one entry (its rating leaves the statistics)",
                    "parameters": [_FEEDBACK_ID],
                    "responses": {
                        "204": {"description": "Deleted"},
                        **_errors("Unauthorized", "NotFound", "TooManyRequests", "Unavailable"),
                    },
                }
            ),
        },
        **{
            f"/api/feedback/{{feedback_id}}/{action}": {
                "post": _admin(
                    {
                        "operationId": f"{action}Feedback",
                        "summary": f"{action.capitalize()} one entry"
                        + (" (it leaves the public statistics)" if action == "hide" else ""),
                        "parameters": [_FEEDBACK_ID],
                        "responses": {
                            "200": _json_response("Done", _schema("Visibility")),
                            **_errors("Unauthorized", "NotFound", "TooManyRequests", "Unavailable"),
                        },
                    }
                )
            }
            for action in ("hide", "unhide")
        },
        "/api/recommendations": {
            "get": {
                "operationId": "recommendations",
                "tags": ["public"],
                "summary": "Ranked extensions and layouts (only those in the catalog)",
                "parameters": [
                    _KIND,
                    _limit(10, 100),
                    _query(
                        "order",
                        {"type": "string", "enum": list(ORDERS), "default": "score"},
                        "score: Bayesian average; trending: recent positive feedback",
                    ),
                ],
                "responses": {
                    "200": _json_response("Ranked targets", _schema("Recommendations")),
                    **_errors("BadRequest", "TooManyRequests", "Unavailable"),
                },
            }
        },
        "/api/stats": {
            "get": {
                "operationId": "stats",
                "tags": ["public"],
                "summary": "Totals, the most rated targets and daily counts (catalog only)",
                "parameters": [_KIND, _limit(20, 100), _DAYS],
                "responses": {
                    "200": _json_response("Statistics", _schema("Stats")),
                    **_errors("BadRequest", "TooManyRequests", "Unavailable"),
                },
            }
        },
        "/api/stats/{target_type}/{target_id}": {
            "get": {
                "operationId": "targetStats",
                "tags": ["public"],
                "summary": "One target's count, average, histogram and daily counts",
                "parameters": [
                    {"name": "target_type", "in": "path", "required": True, "schema": _TARGET_TYPE},
                    {"name": "target_id", "in": "path", "required": True, "schema": _TARGET_ID},
                    _DAYS,
                ],
                "responses": {
                    "200": _json_response(
                        "Statistics (zero counts for a target nobody rated)",
                        _schema("TargetStats"),
                    ),
                    **_errors("BadRequest", "TooManyRequests", "Unavailable"),
                    "404": _ref("responses", "UnknownTarget"),  # a path, not a body: 404
                },
            }
        },
        "/health": {
            "get": {
                "operationId": "health",
                "tags": ["operations"],
                "summary": "The database answers and accepts a write",
                "responses": {
                    "200": _json_response("Healthy", _schema("Health")),
                    **_errors("Unavailable"),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "tags": ["operations"],
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {
                        "description": "Text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "tags": ["operations"],
                "summary": "This document",
                "responses": {"200": _json_response("OpenAPI 3.1", {"type": "object"})},
            }
        },
    }


def document() -> Json:
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
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "securitySchemes": {
                "adminBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The ADMIN_TOKEN setting",
                }
            },
        },
    }
