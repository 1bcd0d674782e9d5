"""Versioned schema migrations, one ordered list for both engines, applied in order, once each.

``migrations/NNN_name.sqlite.sql`` and ``migrations/NNN_name.postgresql.sql``
are the same step for each engine: every version exists for both (a unit test
checks it). This module applies the SQLite ones; ``postgres.py`` applies the
PostgreSQL ones under an advisory lock.

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

_FILE_NAME: Final = re.compile(r"^(\d{3})_([a-z0-9_]+)\.(sqlite|postgresql)\.sql$")
ENGINES: Final = ("sqlite", "postgresql")
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


def available(engine: str = "sqlite") -> list[Migration]:
    """The migrations of ``engine`` ("sqlite" or "postgresql"), oldest first."""
    folder = resources.files("sora.feedback.migrations")
    found = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match and match.group(3) == engine:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(found, key=lambda migration: migration.version)


def check_newest(applied: set[int], known: list[Migration]) -> None:
    """Refuse a database that a newer release has migrated further than we know."""
    newest = max((migration.version for migration in known), default=0)
    if applied and max(applied) > newest:
        raise SchemaError(
            f"database schema version {max(applied)} is newer than this program knows ({newest})"
        )


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
    known = available("sqlite")
    check_newest(applied_versions(conn), known)
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
