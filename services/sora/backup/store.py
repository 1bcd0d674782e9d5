"""Backups in S3: keys, metadata, upload, download, verification tags."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from sora.backup.retention import BackupObject
from sora.backup.settings import BackupSettings
from sora.backup.sqlite import BackupError

TIMESTAMP_FORMAT: Final = "%Y%m%dT%H%M%SZ"
SUFFIX: Final = ".db.gz"
VERIFIED_TAG: Final = "sora-verified"
# Multipart above 64 MiB, four parts in flight: fast on large files, modest memory.
TRANSFER: Final = TransferConfig(
    multipart_threshold=64 * 1024**2, multipart_chunksize=64 * 1024**2, max_concurrency=4
)


def backup_key(settings: BackupSettings, when: datetime) -> str:
    """``<prefix><name>-<UTC timestamp>.db.gz``, like the seed's layout."""
    stamp = when.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
    return f"{settings.prefix}{settings.name}-{stamp}{SUFFIX}"


def _describe(error: BaseException) -> str:
    if isinstance(error, Boto3Error) and error.__context__ is not None:
        return _describe(error.__context__)  # upload_file wraps the ClientError
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found (set a role, AWS_ACCESS_KEY_ID/SECRET, or a profile)"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket", "404"):
            return "the bucket or object does not exist"
        if code in ("AccessDenied", "403"):
            return "access denied"
        return f"{code}: {error.response.get('Error', {}).get('Message', '')}".strip(": ")
    return str(error)


class BackupStore:
    def __init__(self, settings: BackupSettings) -> None:
        self._settings = settings
        self._s3: Any = boto3.client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    def _call(self, what: str, operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except (BotoCoreError, ClientError, Boto3Error) as error:
            raise BackupError(
                f"{what} (s3://{self._settings.bucket}) failed: {_describe(error)}"
            ) from error

    def upload(
        self,
        path: Path,
        key: str,
        metadata: dict[str, str],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        extra = {
            "Metadata": metadata,
            "StorageClass": self._settings.storage_class,
            "ContentType": "application/gzip",
        }
        self._call(
            "upload",
            lambda: self._s3.upload_file(
                str(path),
                self._settings.bucket,
                key,
                ExtraArgs=extra,
                Config=TRANSFER,
                Callback=progress,
            ),
        )

    def download(self, key: str, path: Path, progress: Callable[[int], None] | None = None) -> None:
        self._call(
            f"download of {key}",
            lambda: self._s3.download_file(
                self._settings.bucket, key, str(path), Config=TRANSFER, Callback=progress
            ),
        )

    def mark_verified(self, key: str) -> None:
        self._call(
            "tagging",
            lambda: self._s3.put_object_tagging(
                Bucket=self._settings.bucket,
                Key=key,
                Tagging={"TagSet": [{"Key": VERIFIED_TAG, "Value": "true"}]},
            ),
        )

    def delete(self, key: str) -> None:
        self._call(
            f"delete of {key}",
            lambda: self._s3.delete_object(Bucket=self._settings.bucket, Key=key),
        )

    def describe(self, key: str) -> BackupObject:
        head = self._call(
            f"lookup of {key}", lambda: self._s3.head_object(Bucket=self._settings.bucket, Key=key)
        )
        tags = self._call(
            "tag lookup", lambda: self._s3.get_object_tagging(Bucket=self._settings.bucket, Key=key)
        )["TagSet"]
        metadata = head.get("Metadata", {})
        return BackupObject(
            key=key,
            created=head["LastModified"],
            size=int(head["ContentLength"]),
            verified=any(t["Key"] == VERIFIED_TAG and t["Value"] == "true" for t in tags),
            sha256=metadata.get("sha256"),
            rows=int(metadata["rows"]) if metadata.get("rows", "").isdigit() else None,
            schema_version=int(metadata["schema-version"])
            if metadata.get("schema-version", "").isdigit()
            else None,
        )

    def list(self) -> list[BackupObject]:
        """Every backup under the prefix, newest first."""
        paginator = self._s3.get_paginator("list_objects_v2")
        keys: list[str] = []

        def collect() -> None:
            for page in paginator.paginate(
                Bucket=self._settings.bucket, Prefix=self._settings.prefix
            ):
                keys.extend(o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(SUFFIX))

        self._call("listing", collect)
        return sorted((self.describe(key) for key in keys), key=lambda b: b.created, reverse=True)

    def latest_verified(self) -> BackupObject:
        """The newest backup that was read back and checked after upload."""
        location = f"s3://{self._settings.bucket}/{self._settings.prefix}"
        backups = self.list()
        if not backups:
            raise BackupError(f"no backups under {location}")
        verified = next((b for b in backups if b.verified), None)
        if verified is None:
            raise BackupError(f"no verified backup under {location}; name one with --from KEY")
        return verified
