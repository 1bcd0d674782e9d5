"""Wiring: settings in, a Falcon app with every file server route out."""

from __future__ import annotations

from typing import Final

import falcon

from sora.common import web
from sora.fileserver import metrics, openapi
from sora.fileserver.cache import DiskCache
from sora.fileserver.ids import KINDS
from sora.fileserver.library import Library
from sora.fileserver.resources import (
    CatalogResource,
    DownloadResource,
    HealthResource,
    ManifestResource,
    error_handlers,
)
from sora.fileserver.settings import Settings
from sora.fileserver.storage import LocalStorage, S3Location, S3Storage, Storage
from sora_contract.settings import ConfigError


def make_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        assert settings.s3_bucket is not None
        return S3Storage(
            S3Location(
                bucket=settings.s3_bucket,
                prefix=settings.s3_prefix,
                region=settings.aws_region,
                endpoint_url=settings.s3_endpoint_url,
            )
        )
    return LocalStorage(settings.storage_dir)


def make_cache(settings: Settings) -> DiskCache | None:
    """Only remote backends need a disk cache; local files are served where they are."""
    if settings.storage_backend != "s3":
        return None
    try:
        return DiskCache(
            settings.cache_dir,
            settings.cache_max_bytes,
            on_evict=metrics.CACHE_EVICTED_BYTES.inc,
        )
    except OSError as error:
        raise ConfigError(
            f"CACHE_DIR must be a writable directory: {settings.cache_dir}: {error.strerror}"
        ) from None


def make_library(settings: Settings) -> Library:
    return Library(
        make_storage(settings),
        make_cache(settings),
        ttl=settings.catalog_ttl_seconds,
        redirect_min_bytes=settings.redirect_min_bytes,
        redirect_ttl=settings.redirect_ttl_seconds,
    )


LISTING_ROUTE: Final = "/api/{kind}"
MANIFEST_ROUTE: Final = LISTING_ROUTE + "/{{id}}"
DOWNLOAD_ROUTE: Final = MANIFEST_ROUTE + "/download"


def read_sampling(settings: Settings) -> web.ReadSampling:
    """Catalog listings and manifests: the bulk of the traffic, each line alike (downloads,
    like every error, are always logged)."""
    routes = frozenset(
        route.format(kind=kind) for kind in KINDS for route in (LISTING_ROUTE, MANIFEST_ROUTE)
    )
    return web.ReadSampling(routes, settings.access_log_read_sampling)


def create_app(settings: Settings) -> falcon.App[falcon.Request, falcon.Response]:
    library = make_library(settings)
    app = web.create_app(
        settings.shared,
        cors_methods="GET, HEAD, OPTIONS",
        openapi=openapi.document(),
        read_sampling=read_sampling(settings),
    )
    app.add_route("/health", HealthResource(library))
    for kind in KINDS:
        app.add_route(LISTING_ROUTE.format(kind=kind), CatalogResource(library, kind))
        app.add_route(MANIFEST_ROUTE.format(kind=kind), ManifestResource(library, kind))
        app.add_route(DOWNLOAD_ROUTE.format(kind=kind), DownloadResource(library, kind))
    for exception, handler in error_handlers().items():
        app.add_error_handler(exception, handler)
    return app
