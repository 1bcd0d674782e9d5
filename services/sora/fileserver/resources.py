"""Falcon resources: read the request, call the library, shape the response."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath
from typing import Any, Final

import falcon

from sora.common.validation import validate
from sora.common.web import ApiError, not_found
from sora.fileserver import metrics
from sora.fileserver.catalog import Catalog, Manifest
from sora.fileserver.conditional import none_match, range_applies
from sora.fileserver.library import Library, Rendered
from sora.fileserver.ranges import ByteRange, Unsatisfiable, parse_range
from sora.fileserver.schemas import CatalogQuery, EntryRef, VersionQuery

# A pinned version never changes; "latest" may, so it is cached briefly and revalidated.
PINNED_CACHE: Final = "public, max-age=31536000, immutable"
LATEST_CACHE: Final = "public, max-age=60"
# Listings and manifests: short, then revalidated with If-None-Match (a 304 costs no body).
CATALOG_CACHE: Final = "public, max-age=30"
# What most listing requests ask for (no query string), validated once.
DEFAULT_QUERY: Final = CatalogQuery()


def _valid_id(entry_id: str) -> str:
    return validate(EntryRef, {"id": entry_id}).id


def _version(req: falcon.Request) -> str | None:
    return validate(VersionQuery, req.params).version


def _find(catalog: Catalog, kind: str, entry_id: str, version: str | None) -> Manifest:
    """The requested (or latest) version of an entry, or a 404 saying what is missing."""
    entry = catalog.get(kind, entry_id)
    if entry is None:
        raise not_found(f"No such {kind[:-1]}", id=entry_id)
    if version is None:
        return entry.latest
    manifest = entry.version(version)
    if manifest is None:
        raise not_found("No such version", version=version)
    return manifest


def download_path(manifest: Manifest) -> str:
    return f"/api/{manifest.kind}/{manifest.id}/download?version={manifest.version}"


def _answer(req: falcon.Request, resp: falcon.Response, rendered: Rendered) -> None:
    """A catalog answer, or 304 when the client already holds these bytes."""
    resp.set_header("ETag", rendered.etag)
    resp.set_header("Cache-Control", CATALOG_CACHE)
    if none_match(req.env.get("HTTP_IF_NONE_MATCH"), rendered.etag):
        resp.status = falcon.HTTP_304
        return
    resp.data = rendered.body
    resp.content_type = falcon.MEDIA_JSON


class CatalogResource:
    """``GET /api/{kind}``: search and page through one kind."""

    def __init__(self, library: Library, kind: str) -> None:
        self._library = library
        self._kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = validate(CatalogQuery, req.params) if req.params else DEFAULT_QUERY
        text, tags, limit, offset = query.q, query.tag, query.limit, query.offset

        def render(catalog: Catalog) -> dict[str, Any]:
            page = catalog.search(self._kind, text, tags, limit, offset)
            return {
                "items": [entry.summary() for entry in page.items],
                "total": page.total,
                "limit": page.limit,
                "offset": page.offset,
                "next_offset": page.next_offset,
            }

        key = ("list", self._kind, text.casefold(), tags, limit, offset)
        _answer(req, resp, self._library.rendered(key, render))


class ManifestResource:
    """``GET /api/{kind}/{id}``: one manifest (latest, or ``?version=``) and all versions."""

    def __init__(self, library: Library, kind: str) -> None:
        self._library = library
        self._kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        entry_id, version = _valid_id(id), _version(req)

        def render(catalog: Catalog) -> dict[str, Any]:
            manifest = _find(catalog, self._kind, entry_id, version)
            entry = catalog.get(self._kind, entry_id)
            assert entry is not None
            return {
                **manifest.document(),
                "versions": [str(m.version) for m in entry.versions],
                "download_url": download_path(manifest),
            }

        key = ("manifest", self._kind, entry_id, version)
        _answer(req, resp, self._library.rendered(key, render))


class DownloadResource:
    """``GET|HEAD /api/{kind}/{id}/download``: the package, like a good static server."""

    def __init__(self, library: Library, kind: str) -> None:
        self._library = library
        self._kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._serve(req, resp, id, send_body=True)

    def on_head(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._serve(req, resp, id, send_body=False)

    def _serve(self, req: falcon.Request, resp: falcon.Response, id: str, send_body: bool) -> None:
        version = _version(req)
        manifest = _find(self._library.catalog(), self._kind, _valid_id(id), version)
        etag = f'"{manifest.sha256}"'
        resp.set_header("ETag", etag)
        resp.set_header("Cache-Control", PINNED_CACHE if version else LATEST_CACHE)
        resp.accept_ranges = "bytes"
        if none_match(req.get_header("If-None-Match"), etag):
            resp.status = falcon.HTTP_304
            return
        filename = _filename(manifest)
        redirect = self._library.redirect_url(manifest, filename)
        if redirect is not None:
            metrics.REDIRECTS.labels(self._kind).inc()
            raise falcon.HTTPFound(redirect, headers={"Cache-Control": "private, no-store"})
        selected = _selected_range(req, manifest, etag)
        resp.downloadable_as = filename
        resp.content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        resp.content_length = selected.length
        if selected.length != manifest.size:
            resp.status = falcon.HTTP_206
            resp.set_header("Content-Range", selected.content_range())
        if send_body:
            _attach(resp, self._library, manifest, selected, self._kind)


def _selected_range(req: falcon.Request, manifest: Manifest, etag: str) -> ByteRange:
    whole = ByteRange(0, manifest.size - 1, manifest.size)
    if not range_applies(req.get_header("If-Range"), etag):
        return whole
    chosen = parse_range(req.get_header("Range"), manifest.size)
    if isinstance(chosen, Unsatisfiable):
        raise ApiError(
            416, "Range not satisfiable", headers={"Content-Range": chosen.content_range()}
        )
    return chosen or whole


def _attach(
    resp: falcon.Response, library: Library, manifest: Manifest, selected: ByteRange, kind: str
) -> None:
    """Hand the open file to the WSGI server (Falcon wraps it in ``wsgi.file_wrapper``,
    which gunicorn sends with sendfile from the current offset for Content-Length bytes)."""
    file = library.open_package(manifest)
    file.seek(selected.start)
    resp.stream = file
    metrics.BYTES_SERVED.labels(kind).inc(selected.length)


def _filename(manifest: Manifest) -> str:
    return f"{manifest.id}-{manifest.version}{PurePosixPath(manifest.file).suffix}"


class HealthResource:
    def __init__(self, library: Library) -> None:
        self._library = library

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        health = self._library.health()
        resp.media = health.detail
        resp.set_header("Cache-Control", "no-store")
        if not health.ok:
            resp.status = falcon.HTTP_503
            resp.set_header("Retry-After", "5")


def error_handlers() -> dict[type[Exception], Any]:
    """Storage and integrity failures as JSON errors (registered by the app)."""
    from sora.fileserver.cache import IntegrityError
    from sora.fileserver.storage import ObjectMissingError, StorageError

    def missing(req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any) -> None:
        raise not_found("Package not found")

    def unavailable(req: falcon.Request, resp: falcon.Response, ex: Exception, p: Any) -> None:
        raise ApiError(503, "Storage unavailable", headers={"Retry-After": "5"})

    def corrupt(req: falcon.Request, resp: falcon.Response, ex: Exception, p: Any) -> None:
        raise ApiError(502, "Package failed its integrity check")

    return {ObjectMissingError: missing, StorageError: unavailable, IntegrityError: corrupt}
