"""Which backups a prune deletes: a pure decision, tested without S3."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class BackupObject:
    key: str
    created: datetime
    size: int
    verified: bool
    sha256: str | None = None
    rows: int | None = None
    schema_version: int | None = None


def to_delete(
    backups: Sequence[BackupObject], now: datetime, retention_days: int, keep_copies: int
) -> list[BackupObject]:
    """Backups older than the retention, beyond the newest ``keep_copies``.

    The newest verified backup is never deleted, whatever its age: a prune
    must not leave a database without a restorable copy. ``retention_days``
    of 0 means "by count only".
    """
    newest_first = sorted(backups, key=lambda b: b.created, reverse=True)
    protected = {b.key for b in newest_first[:keep_copies]}
    newest_verified = next((b for b in newest_first if b.verified), None)
    if newest_verified is not None:
        protected.add(newest_verified.key)
    cutoff = now - timedelta(days=retention_days)
    return [
        b
        for b in newest_first
        if b.key not in protected and (retention_days == 0 or b.created < cutoff)
    ]
