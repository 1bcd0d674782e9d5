"""The OpenAPI 3.1 description served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any, Final

from sora.fileserver.catalog import MAX_NAME_LENGTH, MAX_TAGS, MAX_TEXT_LENGTH
from sora.fileserver.ids import (
    ID_PATTERN,
    KINDS,
    MAX_ID_LENGTH,
    MAX_TAG_LENGTH,
    MAX_VERSION_LENGTH,
    TAG_PATTERN,
    VERSION_PATTERN,
)
from sora.fileserver.resources import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_LENGTH

JSON: Final = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


def _schemas() -> dict[str, Any]:
    string = {"type": "string"}
    manifest_properties = {
        "kind": {"type": "string", "enum": list(KINDS)},
        "id": {"type": "string", "maxLength": MAX_ID_LENGTH, "pattern": ID_PATTERN},
        "version": {"type": "string", "maxLength": MAX_VERSION_LENGTH},
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
        "description": {"type": "string", "maxLength": MAX_TEXT_LENGTH},
        "author": {"type": "string", "maxLength": MAX_NAME_LENGTH},
        "tags": {"type": "array", "maxItems": MAX_TAGS, "items": string},
        "file": {"type": "string", "description": "Package file name in the version directory"},
        "size": {"type": "integer", "minimum": 0, "description": "Package size in bytes"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "published_at": {"type": ["string", "null"], "format": "date-time"},
        "versions": {
            "type": "array",
            "items": string,
            "description": "Every listed version, newest first",
        },
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
            "additionalProperties": True,
        },
        "Summary": {
            "type": "object",
            "description": "The latest version's manifest and the list of versions.",
            "required": list(manifest_properties),
            "properties": manifest_properties,
            "additionalProperties": False,
        },
        "Manifest": {
            "type": "object",
            "required": [*manifest_properties, "download_url"],
            "properties": {**manifest_properties, "download_url": string},
            "additionalProperties": False,
        },
        "Page": {
            "type": "object",
            "required": ["items", "total", "limit", "offset", "next_offset"],
            "properties": {
                "items": {"type": "array", "items": _ref("Summary")},
                "total": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                "offset": {"type": "integer", "minimum": 0},
                "next_offset": {"type": ["integer", "null"]},
            },
            "additionalProperties": False,
        },
        "Health": {
            "type": "object",
            "required": ["status", "storage"],
            "properties": {
                "status": {"type": "string", "enum": ["ok", "degraded"]},
                "storage": {"type": "string", "enum": ["local", "s3"]},
                "error": string,
                "catalog": {
                    "type": "object",
                    "properties": {kind: {"type": "integer"} for kind in KINDS},
                },
            },
        },
    }


def _parameters() -> dict[str, Any]:
    return {
        "id": {
            "name": "id",
            "in": "path",
            "required": True,
            "description": "Lowercase letters and digits, joined by single '.', '_' or '-'.",
            "schema": {"type": "string", "maxLength": MAX_ID_LENGTH, "pattern": ID_PATTERN},
        },
        "version": {
            "name": "version",
            "in": "query",
            "required": False,
            "description": "A SemVer version (MAJOR.MINOR.PATCH[-prerelease]); default: latest.",
            "schema": {
                "type": "string",
                "maxLength": MAX_VERSION_LENGTH,
                "pattern": VERSION_PATTERN,
            },
        },
        "q": {
            "name": "q",
            "in": "query",
            "description": "Case-insensitive text in id, name, description, author or tags.",
            "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH},
        },
        "tag": {
            "name": "tag",
            "in": "query",
            "description": "Only entries with every one of these tags (repeat the parameter).",
            "style": "form",
            "explode": True,
            "schema": {
                "type": "array",
                "maxItems": 10,
                "items": {
                    "type": "string",
                    "pattern": TAG_PATTERN,
                    "maxLength": MAX_TAG_LENGTH,
                },
            },
        },
        "limit": {
            "name": "limit",
            "in": "query",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
        },
        "offset": {
            "name": "offset",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        },
    }


def _download_headers() -> dict[str, Any]:
    return {
        "ETag": _header("The package's sha256 as a strong validator"),
        "Cache-Control": _header("immutable for a pinned version, short for the latest"),
        "Content-Length": _header("Bytes in this response", {"type": "integer"}),
        "Content-Disposition": _header("attachment; filename=<id>-<version>.<ext>"),
        "Accept-Ranges": _header("bytes"),
    }


def _binary(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _download_headers(),
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }


def _kind_paths(kind: str) -> dict[str, Any]:
    singular = kind[:-1]
    params = "#/components/parameters/"
    download_responses = {
        "200": _binary("The whole package"),
        "206": _binary("The requested byte range (Content-Range says which)"),
        "302": {
            "description": "Redirect to a short-lived presigned S3 URL (large packages, "
            "when S3_REDIRECT_MIN_BYTES is set)",
            "headers": {"Location": _header("The presigned URL")},
        },
        "304": {
            "description": "If-None-Match matched the ETag",
            "headers": {"ETag": _header("The package's sha256")},
        },
        "400": _error("Invalid id or version"),
        "404": _error(f"No such {singular} or version"),
        "416": _error("The range lies outside the package"),
        "502": _error("The stored package does not match its manifest's sha256"),
        "503": _error("Storage unavailable"),
    }
    conditional = [
        {
            "name": "Range",
            "in": "header",
            "schema": {"type": "string"},
            "description": "One byte range, e.g. bytes=0-1023; others are ignored",
        },
        {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
        {"name": "If-Range", "in": "header", "schema": {"type": "string"}},
    ]
    download_params = [{"$ref": params + "id"}, {"$ref": params + "version"}, *conditional]
    revalidate = {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}
    catalog_headers = {
        "ETag": _header("A digest of exactly this body, the same on every replica"),
        "Cache-Control": _header("public, max-age=30"),
    }
    not_modified = {
        "description": "If-None-Match matched the ETag: the client's copy is current",
        "headers": catalog_headers,
    }
    return {
        f"/api/{kind}": {
            "get": {
                "operationId": f"list_{kind}",
                "summary": f"Search {kind}, sorted by name then id",
                "tags": [kind],
                "parameters": [
                    *({"$ref": params + p} for p in ("q", "tag", "limit", "offset")),
                    revalidate,
                ],
                "responses": {
                    "200": {**_json(_ref("Page"), f"A page of {kind}"), "headers": catalog_headers},
                    "304": not_modified,
                    "400": _error("Invalid query parameter (see the field)"),
                    "503": _error("Storage unavailable and no catalog loaded yet"),
                },
            }
        },
        f"/api/{kind}/{{id}}": {
            "get": {
                "operationId": f"get_{singular}",
                "summary": f"One {singular}'s manifest (latest, or ?version=)",
                "tags": [kind],
                "parameters": [{"$ref": params + "id"}, {"$ref": params + "version"}, revalidate],
                "responses": {
                    "200": {**_json(_ref("Manifest"), "The manifest"), "headers": catalog_headers},
                    "304": not_modified,
                    "400": _error("Invalid id or version"),
                    "404": _error(f"No such {singular} or version"),
                    "503": _error("Storage unavailable and no catalog loaded yet"),
                },
            }
        },
        f"/api/{kind}/{{id}}/download": {
            "get": {
                "operationId": f"download_{singular}",
                "summary": f"Download a {singular}'s package",
                "tags": [kind],
                "parameters": download_params,
                "responses": download_responses,
            },
            "head": {
                "operationId": f"head_{singular}",
                "summary": "The download's headers without the body",
                "tags": [kind],
                "parameters": download_params,
                "responses": {
                    code: {k: v for k, v in response.items() if k != "content"}
                    for code, response in download_responses.items()
                },
            },
        },
    }


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for kind in KINDS:
        paths.update(_kind_paths(kind))
    paths["/health"] = {
        "get": {
            "operationId": "health",
            "summary": "Whether the storage backend is reachable",
            "tags": ["operations"],
            "responses": {
                "200": _json(_ref("Health"), "Storage reachable, catalog loaded"),
                "503": _json(_ref("Health"), "Degraded: storage unreachable"),
            },
        }
    }
    paths["/metrics"] = {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics of every worker",
            "tags": ["operations"],
            "responses": {
                "200": {
                    "description": "Prometheus text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    }
    paths["/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["operations"],
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 description")},
        }
    }
    for operations in paths.values():
        for operation in operations.values():
            operation["responses"]["414"] = _error(
                "Request line over 4094 bytes (answered by gunicorn before the app)"
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Sora file server",
            "version": "1.0.0",
            "description": "Extensions and layouts for Sora clients: catalog, manifests and "
            "package downloads. CORS preflight (OPTIONS) is answered with 204 for the "
            'origins in ALLOWED_ORIGINS. Unknown paths answer 404 {"error": "Not found"}.',
        },
        "paths": paths,
        "components": {"schemas": _schemas(), "parameters": _parameters()},
    }
