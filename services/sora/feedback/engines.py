"""Which database the feedback API uses, from its settings: one place decides.

``DATABASE_URL=postgresql://…`` selects :class:`~sora.feedback.postgres.PostgresStore`;
otherwise :class:`~sora.feedback.sqlite.SQLiteStore` at ``DATABASE_PATH`` (the default).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Final

import psycopg

from sora.feedback import postgres, schema_migrations, sqlite
from sora.feedback.settings import StorageSettings
from sora.feedback.store import FeedbackStore

# What preparing a database can fail with, short of a bug: reported in one line.
PREPARE_ERRORS: Final = (OSError, sqlite3.Error, psycopg.Error, schema_migrations.SchemaError)


def describe(storage: StorageSettings) -> str:
    """Names the database for messages, without its password."""
    if storage.database_url:
        return f"DATABASE_URL={postgres.redacted(storage.database_url)}"
    return f"DATABASE_PATH={storage.database_path}"


def prepare(storage: StorageSettings) -> list[schema_migrations.Migration]:
    """Create what is missing and apply pending migrations (exactly once across replicas)."""
    if storage.database_url:
        return postgres.prepare_database(
            storage.database_url, timeout_seconds=max(storage.timeout_seconds, 10.0)
        )
    return sqlite.prepare_database(
        storage.database_path,
        synchronous=storage.synchronous,
        busy_timeout_ms=storage.busy_timeout_ms,
    )


def postgres_store(
    storage: StorageSettings, observe_commit: Callable[[int, float], None] | None = None
) -> postgres.PostgresStore:
    if not storage.database_url:
        raise ValueError("postgres_store needs DATABASE_URL")
    return postgres.PostgresStore(
        storage.database_url,
        pool_size=storage.pool_size,
        timeout_seconds=storage.timeout_seconds,
        observe_commit=observe_commit,
    )


def open_store(
    storage: StorageSettings, observe_commit: Callable[[int, float], None] | None = None
) -> FeedbackStore:
    """The configured store (the server's, or a tool's: migrate, recount, reencrypt)."""
    if storage.database_url:
        return postgres_store(storage, observe_commit)
    return sqlite.SQLiteStore(
        storage.database_path,
        synchronous=storage.synchronous,
        busy_timeout_ms=storage.busy_timeout_ms,
        autocheckpoint_pages=storage.wal_autocheckpoint,
        observe_commit=observe_commit,
    )
