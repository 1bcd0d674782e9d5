import sqlite3
from pathlib import Path

import pytest

from sora.backup import archive
from sora.backup import sqlite as backup_sqlite
from sora.backup.sqlite import BackupError


def make_database(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA user_version=3")
        db.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY, body TEXT)")
        db.executemany(
            "INSERT INTO feedback (body) VALUES (?)", [(f"row {i}",) for i in range(rows)]
        )
    db.close()


def test_snapshot_copies_every_committed_row_and_the_schema_version(tmp_path: Path) -> None:
    make_database(tmp_path / "live.db", 500)
    backup_sqlite.snapshot(tmp_path / "live.db", tmp_path / "copy.db")
    facts = backup_sqlite.database_facts(tmp_path / "copy.db")
    assert (facts.rows, facts.schema_version) == (500, 3)


def test_snapshot_of_a_missing_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="database not found"):
        backup_sqlite.snapshot(tmp_path / "absent.db", tmp_path / "copy.db")


def test_integrity_check_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    with pytest.raises(BackupError, match="not a readable SQLite database"):
        backup_sqlite.check_integrity(tmp_path / "junk.db")


def test_compression_round_trip_is_deterministic(tmp_path: Path) -> None:
    source = tmp_path / "data"
    source.write_bytes(bytes(range(256)) * 1000)
    first = archive.compress(source, tmp_path / "a.gz", 6)
    second = archive.compress(source, tmp_path / "b.gz", 6)
    archive.expand(tmp_path / "a.gz", tmp_path / "back")
    assert first == second == archive.sha256_of(tmp_path / "a.gz")
    assert (tmp_path / "back").read_bytes() == source.read_bytes()


def test_a_truncated_archive_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "data"
    source.write_bytes(bytes(range(256)) * 1000)
    archive.compress(source, tmp_path / "a.gz", 6)
    data = (tmp_path / "a.gz").read_bytes()
    (tmp_path / "a.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(BackupError, match="not a complete gzip archive"):
        archive.expand(tmp_path / "a.gz", tmp_path / "back")
