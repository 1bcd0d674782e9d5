"""Where the catalog lives: one interface, a local directory or an S3 bucket.

Keys are ``/``-separated paths relative to the storage root (the directory,
or ``S3_PREFIX`` inside the bucket). Callers only pass keys built from
validated ids, and :class:`LocalStorage` additionally refuses any key that
would resolve outside its root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class StorageError(Exception):
    """The storage backend could not be reached or answered with an error."""


class ObjectMissingError(StorageError):
    """The key does not exist (any more)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    # Changes whenever the object's content may have changed (ETag, or mtime and size).
    tag: str


class Sink(Protocol):
    """Where fetched bytes go (a file, or a verifying writer in front of one)."""

    def write(self, data: bytes, /) -> int: ...


class Storage(Protocol):
    name: str

    def check(self) -> None:
        """Raise StorageError unless the backend is reachable and readable."""

    def list(self) -> Iterator[ObjectInfo]:
        """Every object under the root."""

    def read(self, key: str, max_bytes: int) -> bytes:
        """A small object's content (manifests); StorageError beyond ``max_bytes``."""

    def local_path(self, key: str) -> Path | None:
        """A path to serve the object from directly, when the backend is a filesystem."""

    def fetch(self, key: str, out: Sink) -> None:
        """Copy the object's content into ``out``."""

    def presigned_url(self, key: str, expires: int, filename: str) -> str | None:
        """A short-lived URL for the object, when the backend can issue one."""


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root) or path == self._root:
            raise ObjectMissingError(key)
        return path

    def check(self) -> None:
        if not os.access(self._root, os.R_OK | os.X_OK) or not self._root.is_dir():
            raise StorageError(f"{self._root} is not a readable directory")

    def list(self) -> Iterator[ObjectInfo]:
        self.check()
        for directory, _, files in os.walk(self._root):
            for name in files:
                path = Path(directory, name)
                try:
                    stat = path.stat()
                except OSError:
                    continue
                key = path.relative_to(self._root).as_posix()
                yield ObjectInfo(key, stat.st_size, f"{stat.st_mtime_ns}-{stat.st_size}")

    def read(self, key: str, max_bytes: int) -> bytes:
        try:
            with self._path(key).open("rb") as file:
                data = file.read(max_bytes + 1)
        except FileNotFoundError:
            raise ObjectMissingError(key) from None
        except OSError as error:
            raise StorageError(f"cannot read {key}: {error.strerror}") from None
        if len(data) > max_bytes:
            raise StorageError(f"{key} is larger than {max_bytes} bytes")
        return data

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def fetch(self, key: str, out: Sink) -> None:
        try:
            with self._path(key).open("rb") as file:
                shutil.copyfileobj(file, out)
        except FileNotFoundError:
            raise ObjectMissingError(key) from None

    def presigned_url(self, key: str, expires: int, filename: str) -> str | None:
        return None


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str
    region: str | None
    endpoint_url: str | None


class S3Storage:
    """An S3 bucket through boto3; ``endpoint_url`` points it at S3-compatible servers."""

    name = "s3"

    def __init__(self, location: S3Location) -> None:
        self._location = location
        self._client: S3Client | None = None
        self._client_pid = 0

    def _s3(self) -> S3Client:
        # One client per process: gunicorn forks after the app is built, and a
        # client's connection pool must not be shared between processes.
        if self._client is None or self._client_pid != os.getpid():
            self._client = _make_client(self._location)
            self._client_pid = os.getpid()
        return self._client

    def _key(self, key: str) -> str:
        return self._location.prefix + key

    def check(self) -> None:
        with _s3_errors(self._location.bucket):
            self._s3().head_bucket(Bucket=self._location.bucket)

    def list(self) -> Iterator[ObjectInfo]:
        prefix = self._location.prefix
        paginator = self._s3().get_paginator("list_objects_v2")
        with _s3_errors(self._location.bucket):
            for page in paginator.paginate(Bucket=self._location.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    key = item["Key"][len(prefix) :]
                    yield ObjectInfo(key, item["Size"], item.get("ETag", ""))

    def read(self, key: str, max_bytes: int) -> bytes:
        with _s3_errors(key):
            response = self._s3().get_object(Bucket=self._location.bucket, Key=self._key(key))
            body = response["Body"]
            try:
                data = body.read(max_bytes + 1)
            finally:
                body.close()
        if len(data) > max_bytes:
            raise StorageError(f"{key} is larger than {max_bytes} bytes")
        return data

    def local_path(self, key: str) -> Path | None:
        return None

    def fetch(self, key: str, out: Sink) -> None:
        with _s3_errors(key):
            response = self._s3().get_object(Bucket=self._location.bucket, Key=self._key(key))
            body = response["Body"]
            try:
                for chunk in body.iter_chunks(1024 * 1024):
                    out.write(chunk)
            finally:
                body.close()

    def presigned_url(self, key: str, expires: int, filename: str) -> str | None:
        return self._s3().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._location.bucket,
                "Key": self._key(key),
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=expires,
        )


def _make_client(location: S3Location) -> S3Client:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=10,
        retries={"max_attempts": 2, "mode": "standard"},
        signature_version="s3v4",
        s3={"addressing_style": "path" if location.endpoint_url else "auto"},
        max_pool_connections=32,
    )
    return boto3.client(
        "s3", region_name=location.region, endpoint_url=location.endpoint_url, config=config
    )


@contextlib.contextmanager
def _s3_errors(what: str) -> Iterator[None]:
    """Translate botocore failures into StorageError / ObjectMissingError."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "NoSuchBucket", "404", "NotFound"):
            raise ObjectMissingError(f"{what} does not exist") from None
        raise StorageError(f"S3 error {code or 'unknown'} for {what}") from None
    except BotoCoreError as error:
        raise StorageError(f"S3 unreachable: {type(error).__name__}") from None
