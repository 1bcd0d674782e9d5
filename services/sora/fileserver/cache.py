"""A disk cache of verified packages, shared by every worker process.

Layout under ``CACHE_DIR``::

    objects/<sha256>     complete, verified packages, named by their content hash
    partial/<random>     downloads in progress (never served from here)
    locks/<sha256>.lock  one flock per package, so one process downloads it
    .lock                the flock that serialises space accounting and eviction

A download is written to ``partial/``, its size and sha256 are checked
against the manifest, and only then is it renamed into ``objects/`` (an
atomic rename on one filesystem), so a half-written or corrupted file is
never served. ``objects/`` plus ``partial/`` never exceed ``max_bytes``: space
is reserved (the partial file is sized up front) under the global lock,
evicting the least recently used objects (oldest mtime; a hit touches the
file) first. A package that cannot fit is staged in an unlinked temporary
file outside the cache and served from there once verified.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from sora.fileserver.storage import Sink

CHUNK: Final = 1024 * 1024

Fetch = Callable[[Sink], None]


class IntegrityError(Exception):
    """The fetched content does not match the manifest's size or sha256."""


class _TooLargeError(Exception):
    pass


@dataclass(frozen=True)
class Lookup:
    """An open, verified package positioned at its first byte; ``hit`` if no fetch was needed."""

    file: BinaryIO
    hit: bool


class _VerifyingWriter:
    """Hashes what it writes and refuses to write more than ``limit`` bytes."""

    def __init__(self, out: BinaryIO, limit: int) -> None:
        self._out = out
        self._limit = limit
        self._hash = hashlib.sha256()
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.written > self._limit:
            raise _TooLargeError
        self._hash.update(data)
        return self._out.write(data)

    def verify(self, size: int, sha256: str) -> None:
        if self.written != size:
            raise IntegrityError(f"expected {size} bytes, got {self.written}")
        if self._hash.hexdigest() != sha256:
            raise IntegrityError("sha256 does not match the manifest")


class DiskCache:
    def __init__(
        self,
        root: Path,
        max_bytes: int,
        *,
        stale_partial_seconds: float = 3600,
        on_evict: Callable[[int], None] | None = None,
    ) -> None:
        self._objects = root / "objects"
        self._partial = root / "partial"
        self._locks = root / "locks"
        self._global_lock = root / ".lock"
        self._max_bytes = max_bytes
        self._stale_after = stale_partial_seconds
        self._on_evict = on_evict or (lambda size: None)
        for directory in (self._objects, self._partial, self._locks):
            directory.mkdir(parents=True, exist_ok=True)

    def open(self, sha256: str, size: int, fetch: Fetch) -> Lookup:
        """The package with this content hash, fetched and verified first if needed."""
        cached = self._open_cached(sha256, size)
        if cached is not None:
            return Lookup(cached, hit=True)
        with _flock(self._locks / f"{sha256}.lock"):
            cached = self._open_cached(sha256, size)  # another worker may have fetched it
            if cached is not None:
                return Lookup(cached, hit=True)
            return Lookup(self._fill(sha256, size, fetch), hit=False)

    def usage(self) -> int:
        """Bytes held in objects/ and partial/ (what ``max_bytes`` bounds)."""
        return sum(size for _, size, _ in self._scan(self._objects)) + sum(
            size for _, size, _ in self._scan(self._partial)
        )

    def _open_cached(self, sha256: str, size: int) -> BinaryIO | None:
        path = self._objects / sha256
        try:
            file = path.open("rb")
        except FileNotFoundError:
            return None
        if os.fstat(file.fileno()).st_size != size:
            file.close()
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return None
        with contextlib.suppress(FileNotFoundError):
            os.utime(path)  # least recently used goes first
        return file

    def _fill(self, sha256: str, size: int, fetch: Fetch) -> BinaryIO:
        partial = self._reserve(size)
        if partial is None:
            return _fetch_verified(tempfile.TemporaryFile(), sha256, size, fetch)
        try:
            file = _fetch_verified(partial.open("r+b"), sha256, size, fetch)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, self._objects / sha256)
        return file

    def _reserve(self, size: int) -> Path | None:
        """A partial file of ``size`` bytes, once room is made; None if it cannot fit."""
        if size > self._max_bytes:
            return None
        with _flock(self._global_lock):
            if not self._make_room(size):
                return None
            fd, name = tempfile.mkstemp(dir=self._partial)
            try:
                os.ftruncate(fd, size)
            finally:
                os.close(fd)
            return Path(name)

    def _make_room(self, size: int) -> bool:
        now = time.time()
        partial_total = 0
        for path, used, mtime in self._scan(self._partial):
            if now - mtime > self._stale_after:
                path.unlink(missing_ok=True)  # left behind by a killed worker
            else:
                partial_total += used
        objects = sorted(self._scan(self._objects), key=lambda item: item[2])
        total = partial_total + sum(used for _, used, _ in objects)
        for path, used, _ in objects:
            if total + size <= self._max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= used
            self._on_evict(used)
        return total + size <= self._max_bytes

    @staticmethod
    def _scan(directory: Path) -> Iterator[tuple[Path, int, float]]:
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    stat = entry.stat()
                except FileNotFoundError:
                    continue
                yield Path(entry.path), stat.st_size, stat.st_mtime


def _fetch_verified(file: BinaryIO, sha256: str, size: int, fetch: Fetch) -> BinaryIO:
    """Fill ``file`` from ``fetch``, check it, and return it rewound; closes it on failure."""
    try:
        writer = _VerifyingWriter(file, size)
        try:
            fetch(writer)
        except _TooLargeError:
            raise IntegrityError(f"expected {size} bytes, got more") from None
        writer.verify(size, sha256)
        file.truncate(size)
        file.flush()
        os.fsync(file.fileno())
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes and threads (each open is its own lock owner)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
