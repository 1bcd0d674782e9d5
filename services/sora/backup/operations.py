"""The five operations of ``sora-backup``. Each either finishes or leaves nothing behind.

Work files live in a private temporary directory (next to the database by
default, so a restore can rename atomically on the same file system) that is
removed whatever happens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sora.backup import archive, decryption, replication, sqlite
from sora.backup.retention import BackupObject, to_delete
from sora.backup.settings import BackupSettings
from sora.backup.sqlite import BackupError
from sora.backup.store import BackupStore, backup_key

log = logging.getLogger("sora.backup")

ProgressFactory = Callable[[str, int], Callable[[int], None]]


def _no_progress(label: str, total: int) -> Callable[[int], None]:
    return lambda amount: None


@dataclass(frozen=True)
class BackupResult:
    key: str
    size: int
    rows: int
    schema_version: int
    sha256: str
    verified: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextlib.contextmanager
def _work_dir(settings: BackupSettings) -> Iterator[Path]:
    base = settings.work_dir or settings.database_path.parent
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".sora-backup-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _disk_error(error: OSError) -> BackupError:
    return BackupError(f"local disk error: {error.strerror or error}")


def create(
    settings: BackupSettings, store: BackupStore, progress: ProgressFactory = _no_progress
) -> BackupResult:
    """Snapshot, check, compress, upload, then read the backup back and verify it."""
    key = backup_key(settings, datetime.now(UTC))
    try:
        with _work_dir(settings) as work:
            snapshot = work / "snapshot.db"
            sqlite.snapshot(settings.database_path, snapshot)
            sqlite.check_integrity(snapshot)
            facts = sqlite.database_facts(snapshot)
            packed = work / "snapshot.db.gz"
            digest = archive.compress(
                snapshot,
                packed,
                settings.compression_level,
                progress("compress", snapshot.stat().st_size),
            )
            size = packed.stat().st_size
            metadata = {
                "sha256": digest,
                "schema-version": str(facts.schema_version),
                "rows": str(facts.rows),
                "source": f"{socket.gethostname()}:{settings.database_path}",
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            store.upload(packed, key, metadata, progress("upload", size))
            log.info("uploaded %s", key, extra={"key": key, "bytes": size, "rows": facts.rows})
    except OSError as error:
        raise _disk_error(error) from error
    verified = verify(settings, store, key, progress)
    return BackupResult(key, size, facts.rows, facts.schema_version, digest, verified.verified)


def _fetch_checked(
    settings: BackupSettings,
    store: BackupStore,
    backup: BackupObject,
    work: Path,
    progress: ProgressFactory,
) -> Path:
    """Download ``backup`` and prove it whole: digest, gzip stream, integrity_check."""
    packed = work / "download.db.gz"
    store.download(backup.key, packed, progress("download", backup.size))
    if backup.sha256 is None:
        raise BackupError(f"{backup.key} has no sha256 in its metadata; refusing to trust it")
    actual = archive.sha256_of(packed)
    if actual != backup.sha256:
        raise BackupError(f"{backup.key} is corrupted: sha256 {actual} != recorded {backup.sha256}")
    database = work / "restored.db"
    archive.expand(packed, database)
    packed.unlink()
    sqlite.check_integrity(database)
    facts = sqlite.database_facts(database)
    if backup.rows is not None and facts.rows != backup.rows:
        raise BackupError(f"{backup.key} holds {facts.rows} rows, metadata says {backup.rows}")
    return database


def verify(
    settings: BackupSettings, store: BackupStore, key: str, progress: ProgressFactory = _no_progress
) -> BackupObject:
    return verify_decryptable(settings, store, key, None, progress)[0]


def verify_decryptable(
    settings: BackupSettings,
    store: BackupStore,
    key: str,
    passphrase: str | None,
    progress: ProgressFactory = _no_progress,
) -> tuple[BackupObject, decryption.DecryptionProof | None]:
    """Verify ``key``; with ``passphrase``, also prove its comments open with it."""
    backup = store.describe(key)
    proof = None
    try:
        with _work_dir(settings) as work:
            database = _fetch_checked(settings, store, backup, work, progress)
            if passphrase is not None:
                proof = decryption.prove_decryptable(database, passphrase)
    except OSError as error:
        raise _disk_error(error) from error
    store.mark_verified(key)
    log.info("verified %s", key, extra={"key": key, "rows": backup.rows})
    return store.describe(key), proof


def restore(
    settings: BackupSettings,
    store: BackupStore,
    source: str,
    progress: ProgressFactory = _no_progress,
) -> tuple[BackupObject, Path | None]:
    """Replace the database with a verified backup; the current one is kept beside it.

    The service must be stopped (the operator scales it to zero first). The old
    ``-wal``/``-shm`` files are removed before the rename: SQLite would otherwise
    replay the previous database's log into the restored one.
    """
    backup = store.latest_verified() if source == "latest" else store.describe(source)
    try:
        with _work_dir(settings) as work:
            restored = _fetch_checked(settings, store, backup, work, progress)
            kept = _swap_in(settings.database_path, restored)
    except OSError as error:
        raise _disk_error(error) from error
    log.info("restored %s", backup.key, extra={"key": backup.key, "kept": str(kept)})
    return backup, kept


def _swap_in(target: Path, restored: Path) -> Path | None:
    """Put a checked database in place of ``target``; the current one is kept beside it.

    The old ``-wal``/``-shm`` files go first (SQLite would otherwise replay the previous
    database's log into the restored one), and so does Litestream's local state: it
    describes the previous file, and replication starts afresh from the restored one.
    """
    kept: Path | None = None
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = target.with_name(f"{target.name}.before-restore-{stamp}")
        sqlite.snapshot(target, kept)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()
    shutil.rmtree(replication.local_state_of(target), ignore_errors=True)
    os.replace(restored, target)
    return kept


@dataclass(frozen=True)
class ReplicaRestore:
    to_time: datetime | None  # None: the replica's newest state
    window: replication.RetainedWindow
    rows: int
    schema_version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": "replica",
            "to_time": self.to_time.isoformat() if self.to_time else None,
            "window": {
                "earliest": self.window.earliest.isoformat(),
                "latest": self.window.latest.isoformat(),
            },
            "rows": self.rows,
            "schema_version": self.schema_version,
        }


def restore_from_replica(
    settings: BackupSettings, to_time: datetime | None
) -> tuple[ReplicaRestore, Path | None]:
    """Replace the database with the continuous replica's state at ``to_time``.

    The same sequence as a restore from a backup: nothing is touched until the restored
    file has passed ``integrity_check``; the current file is kept beside it.
    """
    try:
        with _work_dir(settings) as work:
            restored = work / "replica.db"
            window = replication.restore_into(settings, restored, to_time)
            sqlite.check_integrity(restored)
            facts = sqlite.database_facts(restored)
            kept = _swap_in(settings.database_path, restored)
    except OSError as error:
        raise _disk_error(error) from error
    outcome = ReplicaRestore(to_time, window, facts.rows, facts.schema_version)
    log.info("restored from the replica", extra={**outcome.as_dict(), "kept": str(kept)})
    return outcome, kept


def prune(
    settings: BackupSettings,
    store: BackupStore,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[BackupObject]:
    doomed = to_delete(
        store.list(), now or datetime.now(UTC), settings.retention_days, settings.keep_copies
    )
    for backup in doomed:
        if not dry_run:
            store.delete(backup.key)
        log.info(
            "%s %s", "would delete" if dry_run else "deleted", backup.key, extra={"key": backup.key}
        )
    return doomed
