"""Local SQLite work: online snapshots, integrity checks, facts about a database file."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FEEDBACK_TABLE = "feedback"


class BackupError(Exception):
    """A backup step failed; the message says which and why."""


@dataclass(frozen=True)
class DatabaseFacts:
    schema_version: int
    rows: int


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool = True) -> Iterator[sqlite3.Connection]:
    if not path.exists():
        raise BackupError(f"database not found: {path}")
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    connection = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        yield connection
    finally:
        connection.close()


def snapshot(source: Path, destination: Path) -> None:
    """A consistent copy of a live database through SQLite's online backup API.

    The whole copy runs as one step: in WAL mode it reads one snapshot while
    writers go on, whereas a step-wise copy restarts whenever a writer commits
    and may never finish under sustained writes.
    """
    with _connect(source) as live:
        target = sqlite3.connect(destination)
        try:
            live.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error as error:
            raise BackupError(f"snapshot of {source} failed: {error}") from error
        finally:
            target.close()


def check_integrity(path: Path) -> None:
    try:
        with _connect(path) as connection:
            result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path.name} is not a readable SQLite database: {error}") from error
    if result != ["ok"]:
        raise BackupError(f"integrity_check failed for {path.name}: {'; '.join(result[:5])}")


def database_facts(path: Path) -> DatabaseFacts:
    with _connect(path) as connection:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        exists = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (FEEDBACK_TABLE,)
        ).fetchone()
        rows = (
            int(connection.execute(f"SELECT count(*) FROM {FEEDBACK_TABLE}").fetchone()[0])  # noqa: S608
            if exists
            else 0
        )
    return DatabaseFacts(schema_version=version, rows=rows)
