"""Continuous replication (``sora-backup replicate``: Litestream) and point-in-time restore,
against moto's S3 server and real SQLite files."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.polling import wait_for
from tests.support.processes import Service
from tests.support.replication import (
    backup_cli,
    caught_up,
    replicating,
    replication_env,
    replication_state,
)


def create_database(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY, batch TEXT NOT NULL)")
        db.commit()


def write_batch(path: Path, batch: str, rows: int) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_autocheckpoint = 0")  # as the feedback API runs beside Litestream
        for _ in range(rows):
            db.execute("INSERT INTO feedback (batch) VALUES (?)", (batch,))
            db.commit()


def batches(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return dict(db.execute("SELECT batch, count(*) FROM feedback GROUP BY batch").fetchall())


def batches_around_a_moment(
    replication: Service, database: Path, before: tuple[str, int], after: tuple[str, int]
) -> datetime:
    """Write ``before``, let the replica hold it, take the moment, then write ``after``."""
    write_batch(database, *before)
    wait_for(lambda: caught_up(replication), 30, "the replica to hold the first batch")
    moment = datetime.now(UTC)
    wait_for(lambda: datetime.now(UTC) > moment, 5, "the clock to pass the moment")
    write_batch(database, *after)
    first = replication_state(replication)["local_txid"]
    wait_for(lambda: caught_up(replication, first + 1), 30, "the replica to hold the second")
    return moment


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "feedback.db"
    create_database(path)
    return path


@pytest.fixture
def env(s3_env: dict[str, str], s3_bucket: str, database: Path) -> dict[str, str]:
    return replication_env(s3_env, s3_bucket, database)


def test_point_in_time_restore_lands_on_the_state_of_that_moment(
    env: dict[str, str], database: Path, tmp_path: Path
) -> None:
    with replicating(env, tmp_path / "replicate.log") as replication:
        moment = batches_around_a_moment(replication, database, ("before", 40), ("after", 25))

    status, outcome, stderr = backup_cli(env, "restore", "--to-time", moment.isoformat())
    assert status == 0, stderr
    assert batches(database) == {"before": 40}
    assert Path(outcome["previous"]).exists()
    assert batches(Path(outcome["previous"])) == {"before": 40, "after": 25}

    status, outcome, stderr = backup_cli(env, "restore", "--from", "replica")
    assert status == 0, stderr
    assert batches(database) == {"before": 40, "after": 25}


def test_replication_resumes_from_a_restored_earlier_state(
    env: dict[str, str], database: Path, tmp_path: Path
) -> None:
    with replicating(env, tmp_path / "first.log") as replication:
        moment = batches_around_a_moment(replication, database, ("kept", 10), ("undone", 10))
    assert backup_cli(env, "restore", "--to-time", moment.isoformat())[0] == 0

    with replicating(env, tmp_path / "second.log") as replication:
        write_batch(database, "new", 5)
        wait_for(lambda: caught_up(replication), 30, "the replica to hold the new batch")
    database.unlink()
    status, _, stderr = backup_cli(env, "restore", "--from", "replica")
    assert status == 0, stderr
    assert batches(database) == {"kept": 10, "new": 5}


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        ("2020-01-01T00:00:00Z", "outside the retained window"),
        ("2999-01-01T00:00:00Z", "is in the future"),
        ("2026-11-28 09:15", "has no offset"),
        ("yesterday", "is not an RFC 3339 time"),
    ],
)
def test_a_time_the_replica_cannot_give_is_refused_and_changes_nothing(
    env: dict[str, str], database: Path, tmp_path: Path, when: str, reason: str
) -> None:
    with replicating(env, tmp_path / "replicate.log") as replication:
        write_batch(database, "current", 5)
        wait_for(lambda: caught_up(replication), 30, "the replica to hold the batch")
    before = database.read_bytes()

    status, outcome, _ = backup_cli(env, "restore", "--to-time", when)

    assert (status, outcome["result"]) == (1, "failed")
    assert reason in outcome["error"]
    assert database.read_bytes() == before
    assert not list(tmp_path.glob("feedback.db.before-restore-*"))


def test_restore_without_a_replica_is_refused(env: dict[str, str], database: Path) -> None:
    status, outcome, _ = backup_cli(env, "restore", "--from", "replica")
    assert status == 1
    assert "no replica under s3://" in outcome["error"]
