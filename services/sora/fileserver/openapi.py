"""The OpenAPI 3.1 description served at ``/openapi.json``.

Every schema and parameter in it is generated from ``schemas.py``, the types that
validate the requests; written here is only what is not shape: paths, operations,
summaries, status codes and headers.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from sora.common import schemas as common
from sora.common.openapi import components, json_response, parameters, ref
from sora.fileserver import schemas
from sora.fileserver.ids import KINDS

_STRING: Final = {"type": "string"}


def _error(description: str) -> dict[str, Any]:
    return json_response(description, ref("Error"))


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or _STRING}


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
        {"name": "If-None-Match", "in": "header", "schema": _STRING},
        {"name": "If-Range", "in": "header", "schema": _STRING},
    ]
    entry = [*parameters(schemas.EntryRef, "path"), *parameters(schemas.VersionQuery)]
    revalidate = {"name": "If-None-Match", "in": "header", "schema": _STRING}
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
                "parameters": [*parameters(schemas.CatalogQuery), revalidate],
                "responses": {
                    "200": json_response(f"A page of {kind}", ref("Page"), catalog_headers),
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
                "parameters": [*entry, revalidate],
                "responses": {
                    "200": json_response("The manifest", ref("Manifest"), catalog_headers),
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
                "parameters": [*entry, *conditional],
                "responses": download_responses,
            },
            "head": {
                "operationId": f"head_{singular}",
                "summary": "The download's headers without the body",
                "tags": [kind],
                "parameters": [*entry, *conditional],
                "responses": {
                    code: {k: v for k, v in response.items() if k != "content"}
                    for code, response in download_responses.items()
                },
            },
        },
    }


@cache
def document() -> dict[str, Any]:
    """Built once (the schemas take a few milliseconds); callers must not change it."""
    paths: dict[str, Any] = {}
    for kind in KINDS:
        paths.update(_kind_paths(kind))
    paths["/health"] = {
        "get": {
            "operationId": "health",
            "summary": "Whether the storage backend is reachable",
            "tags": ["operations"],
            "responses": {
                "200": json_response("Storage reachable, catalog loaded", ref("Health")),
                "503": json_response("Degraded: storage unreachable", ref("Health")),
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
            "responses": {"200": json_response("OpenAPI 3.1 description", {"type": "object"})},
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
        "components": {
            "schemas": components(schemas.Page, schemas.Manifest, schemas.Health, common.Error)
        },
    }
