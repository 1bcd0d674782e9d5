"""Compressing and expanding snapshots, with the digest computed on the way."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path

from sora.backup.sqlite import BackupError

CHUNK = 1024 * 1024
Progress = Callable[[int], None]


def compress(source: Path, destination: Path, level: int, progress: Progress | None = None) -> str:
    """Gzip ``source`` into ``destination``; returns the sha256 of the compressed bytes."""
    # mtime=0 and no file name: the same snapshot always compresses to the same bytes.
    with (
        source.open("rb") as plain,
        destination.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=level, mtime=0, filename="") as packed,
    ):
        while chunk := plain.read(CHUNK):
            packed.write(chunk)
            if progress:
                progress(len(chunk))
    return sha256_of(destination)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def expand(source: Path, destination: Path) -> None:
    try:
        with gzip.open(source, "rb") as packed, destination.open("wb") as plain:
            shutil.copyfileobj(packed, plain, CHUNK)
    except (OSError, EOFError, zlib.error) as error:
        raise BackupError(f"{source.name} is not a complete gzip archive: {error}") from error
