"""Versioned schema migrations: ``migrations/NNN_name.sql``, applied in order, once each.

Each migration runs in its own ``BEGIN IMMEDIATE`` transaction together with
its row in ``schema_migrations`` (and ``PRAGMA user_version``, for tools that
read the file header), so concurrent starters (the server and a
``sora-feedback-api migrate`` run) cannot apply one twice, and a failing
migration leaves the schema as it was.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from importlib import resources
from typing import Final

_FILE_NAME: Final = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_LEDGER: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)"""


class SchemaError(Exception):
    """The database schema cannot be brought to the version this program expects."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    folder = resources.files("sora.feedback.migrations")
    found = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(found, key=lambda migration: migration.version)


def statements(sql: str) -> list[str]:
    """Split a script into complete statements (``executescript`` would commit midway)."""
    found, pending = [], ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    if any(line.strip() and not line.strip().startswith("--") for line in pending.splitlines()):
        raise SchemaError(f"incomplete SQL statement at the end of a migration: {pending[:60]!r}")
    return found


def applied_versions(conn: sqlite3.Connection) -> set[int]:
    conn.execute(_LEDGER)
    return {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}


def migrate(conn: sqlite3.Connection) -> list[Migration]:
    """Apply every pending migration; returns those applied now. ``conn`` is in autocommit."""
    known = available()
    newest = max((migration.version for migration in known), default=0)
    done = applied_versions(conn)
    if done and max(done) > newest:
        raise SchemaError(
            f"database schema version {max(done)} is newer than this program knows ({newest})"
        )
    return [migration for migration in known if _apply(conn, migration)]


def _apply(conn: sqlite3.Connection, migration: Migration) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute(
            "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
        ).fetchone():
            conn.execute("ROLLBACK")
            return False
        for statement in statements(migration.sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.name, int(time.time() * 1000)),
        )
        # Also in the file header, where tools (sora-backup) read it without knowing our tables.
        conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return True
