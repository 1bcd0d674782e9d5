"""The file server's domain service: the catalog kept fresh, and packages to serve.

It knows storage and cache, nothing of HTTP. Each worker process holds its own
in-memory catalog, rebuilt when ``ttl`` has passed; only manifests whose
storage tag (ETag, or mtime and size) changed are read again. While storage
is unreachable the last good catalog keeps being served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from sora.fileserver import metrics
from sora.fileserver.cache import CHUNK, DiskCache, IntegrityError
from sora.fileserver.catalog import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    Catalog,
    Manifest,
    build_catalog,
    manifest_location,
)
from sora.fileserver.ids import KINDS
from sora.fileserver.storage import ObjectInfo, ObjectMissingError, Storage, StorageError

log = logging.getLogger("sora.fileserver")

_MAX_VERIFIED: Final = 10_000
_MAX_RENDERED: Final = 1024

Render = Callable[[Catalog], Any]


@dataclass(frozen=True)
class Rendered:
    """A JSON answer serialised once, with a strong validator of exactly these bytes."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, document: Any) -> Rendered:
        body = json.dumps(document, ensure_ascii=False).encode()
        return cls(body, f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"')


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: dict[str, Any]


class Library:
    def __init__(
        self,
        storage: Storage,
        cache: DiskCache | None,
        *,
        ttl: float,
        redirect_min_bytes: int = 0,
        redirect_ttl: int = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._cache = cache
        self._ttl = ttl
        self._redirect_min_bytes = redirect_min_bytes
        self._redirect_ttl = redirect_ttl
        self._clock = clock
        self._catalog: Catalog | None = None
        self._expires = 0.0
        self._refreshing = threading.Lock()
        self._manifests: dict[str, tuple[str, bytes]] = {}
        self._reported: frozenset[tuple[str, str]] = frozenset()
        self._verified: set[tuple[str, int, int, int, str]] = set()
        self._rendered: tuple[Catalog | None, dict[Hashable, Rendered]] = (None, {})

    # -- the catalog -------------------------------------------------------

    def catalog(self) -> Catalog:
        """The current catalog; StorageError only when none could ever be loaded."""
        current = self._catalog
        if current is not None and self._clock() < self._expires:
            return current
        # One thread refreshes; the others keep answering from the current catalog.
        if not self._refreshing.acquire(blocking=current is None):
            assert current is not None
            return current
        try:
            return self._refresh(current)
        finally:
            self._refreshing.release()

    def rendered(self, key: Hashable, render: Render) -> Rendered:
        """``render(catalog)`` as JSON bytes and their ETag, memoised per ``key`` until the
        catalog changes.

        Listings and manifests are asked for far more often than the catalog
        changes; serialising (and hashing) each answer once keeps them cheap. The ETag is
        a digest of the bytes, so every worker and replica gives the same one.
        """
        catalog = self.catalog()
        owner, memo = self._rendered
        if owner is not catalog:
            memo = {}
            self._rendered = (catalog, memo)
        body = memo.get(key)
        if body is None:
            if len(memo) >= _MAX_RENDERED:
                memo.clear()
            body = memo[key] = Rendered.of(render(catalog))
        return body

    def _refresh(self, current: Catalog | None) -> Catalog:
        if self._catalog is not None and self._clock() < self._expires:
            return self._catalog
        try:
            catalog = self._load()
        except StorageError as error:
            metrics.CATALOG_REFRESH_FAILURES.inc()
            if current is None:
                raise
            log.warning("catalog refresh failed, serving the previous one: %s", error)
            catalog = current
        self._catalog = catalog
        self._expires = self._clock() + self._ttl
        return catalog

    def _load(self) -> Catalog:
        objects = list(self._storage.list())
        manifests = []
        for info in objects:
            location = manifest_location(info.key)
            raw = self._manifest_bytes(info) if location else None
            if location and raw is not None:
                manifests.append((location, raw))
        live = {info.key for info in objects if info.key.endswith(MANIFEST_NAME)}
        self._manifests = {k: v for k, v in self._manifests.items() if k in live}
        catalog = build_catalog(manifests, {info.key: info.size for info in objects})
        self._report_skipped(catalog)
        return catalog

    def _manifest_bytes(self, info: ObjectInfo) -> bytes | None:
        known = self._manifests.get(info.key)
        if known is not None and known[0] == info.tag:
            return known[1]
        try:
            raw = self._storage.read(info.key, MAX_MANIFEST_BYTES + 1)
        except ObjectMissingError:
            return None  # deleted since it was listed
        self._manifests[info.key] = (info.tag, raw)
        return raw

    def _report_skipped(self, catalog: Catalog) -> None:
        skipped = frozenset((item.key, item.reason) for item in catalog.skipped)
        for key, reason in sorted(skipped - self._reported):
            log.warning("skipping %s: %s", key, reason, extra={"key": key, "reason": reason})
        self._reported = skipped

    # -- health ------------------------------------------------------------

    def health(self) -> Health:
        try:
            self._storage.check()
            catalog = self.catalog()
        except StorageError as error:
            log.warning("storage unreachable: %s", error)
            return Health(
                False,
                {"status": "degraded", "error": "Storage unreachable", "storage": self.backend},
            )
        counts = {kind: catalog.count(kind) for kind in KINDS}
        return Health(True, {"status": "ok", "storage": self.backend, "catalog": counts})

    @property
    def backend(self) -> str:
        return self._storage.name

    # -- packages ----------------------------------------------------------

    def redirect_url(self, manifest: Manifest, filename: str) -> str | None:
        """A presigned URL when the package is large enough to skip Python entirely."""
        if not self._redirect_min_bytes or manifest.size < self._redirect_min_bytes:
            return None
        return self._storage.presigned_url(manifest.package_key, self._redirect_ttl, filename)

    def open_package(self, manifest: Manifest) -> BinaryIO:
        """The package's verified content, open at its first byte (IntegrityError otherwise)."""
        try:
            path = self._storage.local_path(manifest.package_key)
            if path is not None:
                return self._open_local(path, manifest)
            return self._open_cached(manifest)
        except IntegrityError as error:
            metrics.INTEGRITY_FAILURES.inc()
            log.error("refusing %s: %s", manifest.package_key, error)
            raise

    def _open_cached(self, manifest: Manifest) -> BinaryIO:
        if self._cache is None:
            raise StorageError("no cache configured for a remote backend")

        def fetch(out: Any) -> None:
            self._storage.fetch(manifest.package_key, out)

        lookup = self._cache.open(manifest.sha256, manifest.size, fetch)
        metrics.CACHE_LOOKUPS.labels("hit" if lookup.hit else "miss").inc()
        return lookup.file

    def _open_local(self, path: Path, manifest: Manifest) -> BinaryIO:
        """Local files are hashed once per (inode, size, mtime) in each process."""
        try:
            file = path.open("rb")
        except FileNotFoundError:
            raise ObjectMissingError(manifest.package_key) from None
        try:
            stat = os.fstat(file.fileno())
            identity = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, manifest.sha256)
            if identity not in self._verified:
                _verify(file, manifest)
                if len(self._verified) >= _MAX_VERIFIED:
                    self._verified.clear()
                self._verified.add(identity)
        except BaseException:
            file.close()
            raise
        return file


def _verify(file: BinaryIO, manifest: Manifest) -> None:
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    if size != manifest.size:
        raise IntegrityError(f"expected {manifest.size} bytes, found {size}")
    if digest.hexdigest() != manifest.sha256:
        raise IntegrityError("sha256 does not match the manifest")
