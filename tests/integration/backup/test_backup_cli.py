"""sora-backup against a real S3-API server (moto) and real SQLite files."""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sora.backup import operations
from sora.backup.settings import BackupSettings
from sora.backup.store import TIMESTAMP_FORMAT, BackupStore
from sora_contract.settings import Env
from tests.support.processes import program

ROWS = 100_000


def create_database(path: Path, rows: int) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY, rating INTEGER, body BLOB)")
    db.executemany(
        "INSERT INTO feedback (id, rating, body) VALUES (?, ?, randomblob(64))",
        ((i, i % 5 + 1) for i in range(1, rows + 1)),
    )
    db.commit()
    db.close()


class Writer(threading.Thread):
    """Keeps committing rows; remembers the highest id known to be committed."""

    def __init__(self, path: Path, first_id: int) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.next_id = first_id
        self.committed = first_id - 1
        self.stop = threading.Event()

    def run(self) -> None:
        db = sqlite3.connect(self.path, timeout=30)
        while not self.stop.is_set():
            db.execute(
                "INSERT INTO feedback (id, rating, body) VALUES (?, 3, x'00')", (self.next_id,)
            )
            db.commit()
            self.committed = self.next_id
            self.next_id += 1
        db.close()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "feedback.db"
    create_database(path, ROWS)
    return path


@pytest.fixture
def backup_env(s3_env: dict[str, str], s3_bucket: str, database: Path) -> dict[str, str]:
    return {
        **s3_env,
        "BACKUP_BUCKET": s3_bucket,
        "BACKUP_PREFIX": "database/test/",
        "DATABASE_PATH": str(database),
        "LOG_FORMAT": "json",
    }


def backup_cli(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    completed = subprocess.run(
        [program("sora-backup"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    return completed.returncode, json.loads(lines[-1]) if lines else {}, completed.stderr


@pytest.fixture
def settings(backup_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> BackupSettings:
    """Settings for calling the operations in this process (boto3 reads credentials here)."""
    for name, value in backup_env.items():
        monkeypatch.setenv(name, value)
    return BackupSettings.from_env(Env(backup_env))


@pytest.fixture
def writer(database: Path) -> Iterator[Writer]:
    thread = Writer(database, ROWS + 1)
    thread.start()
    yield thread
    thread.stop.set()
    thread.join()


def test_create_list_verify_restore_round_trip_while_writes_continue(
    backup_env: dict[str, str], database: Path, writer: Writer
) -> None:
    committed_before = writer.committed
    status, created, stderr = backup_cli(backup_env, "create")
    assert status == 0, stderr
    assert created["verified"] is True
    assert created["rows"] >= committed_before >= ROWS
    assert created["key"].startswith("database/test/sora-feedback-")

    status, listing, _ = backup_cli(backup_env, "list")
    assert [b["key"] for b in listing["backups"]] == [created["key"]]

    status, verified, stderr = backup_cli(backup_env, "verify", created["key"])
    assert status == 0, stderr
    assert verified["rows"] == created["rows"]

    writer.stop.set()
    writer.join()
    status, restored, stderr = backup_cli(backup_env, "restore", "--from", "latest")
    assert status == 0, stderr
    db = sqlite3.connect(database)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    ids = db.execute(
        "SELECT count(*), max(id) FROM feedback WHERE id <= ?", (committed_before,)
    ).fetchone()
    assert ids == (committed_before, committed_before)
    assert db.execute("SELECT count(*) FROM feedback").fetchone()[0] == created["rows"]
    assert Path(restored["previous"]).exists()


def test_verify_without_a_key_checks_the_backup_restore_would_use(
    backup_env: dict[str, str],
) -> None:
    status, outcome, _ = backup_cli(backup_env, "verify")
    assert (status, "no backups under" in outcome.get("error", "")) == (1, True), outcome
    keys: list[str] = []
    for _ in range(2):
        while keys and datetime.now(UTC).strftime(TIMESTAMP_FORMAT) in keys[-1]:
            time.sleep(0.05)  # keys name the second: the next backup needs a new one
        status, created, stderr = backup_cli(backup_env, "create")
        assert status == 0, stderr
        keys.append(created["key"])
    for args in ((), ("latest",)):
        status, verified, stderr = backup_cli(backup_env, "verify", *args)
        assert status == 0, stderr
        assert (verified["result"], verified["key"]) == ("verified", keys[-1])
    status, verified, stderr = backup_cli(backup_env, "verify", keys[0])
    assert (status, verified["key"]) == (0, keys[0]), stderr


def test_a_corrupted_backup_is_refused_by_verify_and_restore(
    backup_env: dict[str, str], database: Path, s3_client: Any, s3_bucket: str
) -> None:
    status, created, stderr = backup_cli(backup_env, "create")
    assert status == 0, stderr
    head = s3_client.head_object(Bucket=s3_bucket, Key=created["key"])
    body = bytearray(s3_client.get_object(Bucket=s3_bucket, Key=created["key"])["Body"].read())
    body[len(body) // 2] ^= 0xFF
    s3_client.put_object(
        Bucket=s3_bucket, Key=created["key"], Body=bytes(body), Metadata=head["Metadata"]
    )
    before = database.read_bytes()

    status, outcome, _ = backup_cli(backup_env, "verify", created["key"])
    assert status == 1
    assert "corrupted" in outcome["error"]
    status, outcome, _ = backup_cli(backup_env, "restore", "--from", created["key"])
    assert status == 1
    assert "corrupted" in outcome["error"]
    assert database.read_bytes() == before


def test_a_truncated_backup_with_a_matching_digest_is_refused(
    backup_env: dict[str, str], s3_client: Any, s3_bucket: str, tmp_path: Path
) -> None:
    # A truncated gzip whose recorded sha256 matches: only the stream check can catch it.
    from sora.backup.archive import sha256_of

    whole = gzip.compress(b"SQLite format 3\x00" + b"\x00" * 8192)
    truncated = tmp_path / "t.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    key = "database/test/sora-feedback-20260101T000000Z.db.gz"
    s3_client.put_object(
        Bucket=s3_bucket,
        Key=key,
        Body=truncated.read_bytes(),
        Metadata={"sha256": sha256_of(truncated), "rows": "0"},
    )
    status, outcome, _ = backup_cli(backup_env, "verify", key)
    assert status == 1
    assert "not a complete gzip archive" in outcome["error"]


def test_prune_keeps_recent_backups_and_the_newest_verified_one(
    settings: BackupSettings, s3_client: Any, s3_bucket: str
) -> None:
    store = BackupStore(settings)
    first = operations.create(settings, store)
    second = operations.create(settings, store)
    unverified = "database/test/sora-feedback-20990101T000000Z.db.gz"
    s3_client.put_object(Bucket=s3_bucket, Key=unverified, Body=b"x")
    # Ten years on, everything is past its retention; only protected copies stay.
    later = datetime.now(UTC) + timedelta(days=3650)
    deleted = operations.prune(settings, store, now=later)
    remaining = {b.key for b in store.list()}
    assert {b.key for b in deleted} | remaining == {first.key, second.key, unverified}
    newest = max(store.list(), key=lambda b: b.created)
    assert newest.key in remaining
    assert any(store.describe(k).verified for k in remaining)


def test_missing_bucket_setting_stops_with_a_configuration_error(
    backup_env: dict[str, str],
) -> None:
    env = {k: v for k, v in backup_env.items() if k != "BACKUP_BUCKET"}
    status, _, stderr = backup_cli(env, "list")
    assert status == 2
    assert "BACKUP_BUCKET is required" in stderr


def test_a_bucket_that_does_not_exist_is_a_clear_failure(backup_env: dict[str, str]) -> None:
    status, outcome, stderr = backup_cli(
        {**backup_env, "BACKUP_BUCKET": "no-such-bucket"}, "create"
    )
    assert status == 1, (outcome, stderr)
    assert "does not exist" in outcome["error"]


def test_a_failed_create_leaves_no_work_files(backup_env: dict[str, str], database: Path) -> None:
    backup_cli({**backup_env, "BACKUP_BUCKET": "no-such-bucket"}, "create")
    assert (
        sorted(p.name for p in database.parent.iterdir() if p.name.startswith(".sora-backup")) == []
    )
