"""``sora-feedback-api migrate | reencrypt | recount`` run on their own; ``serve`` refusals."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from pathlib import Path

from sora.feedback import domain
from sora.feedback.crypto import Keyring, key_id
from sora.feedback.model import FeedbackFilter, Submission, Target
from sora.feedback.sqlite import SQLiteStore, prepare_database
from tests.integration.feedback.conftest import (
    ENCRYPTION_KEY,
    SECRETS,
    aggregates,
    recount,
    rows,
)
from tests.support.processes import program

NEW_KEY = "a-brand-new-key-for-rotation-9f3e7a"


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [program("sora-feedback-api"), *args],
        env={
            **os.environ,
            "SORA_ENV": "test",
            **SECRETS,
            "LOG_FORMAT": "text",
            "DATABASE_PATH": str(tmp_path / "feedback.db"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_creates_the_schema_once_without_secrets(tmp_path: Path) -> None:
    first = run(tmp_path / "nested", "migrate", ENCRYPTION_KEY="", ADMIN_TOKEN="")
    assert first.returncode == 0, first.stderr
    assert "applied migration 001_initial" in first.stdout
    database = tmp_path / "nested" / "feedback.db"
    assert rows(database, "PRAGMA journal_mode") == [("wal",)]
    assert rows(database, "SELECT version FROM schema_migrations") == [(1,)]
    assert rows(database, "PRAGMA user_version") == [(1,)]
    again = run(tmp_path / "nested", "migrate")
    assert (again.returncode, again.stdout) == (0, "")


def test_a_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    with contextlib.closing(sqlite3.connect(tmp_path / "feedback.db")) as conn, conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    result = run(tmp_path, "migrate")
    assert result.returncode == 1
    assert "newer than this program" in result.stderr


def test_the_server_refuses_more_than_one_worker_at_start(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", WEB_CONCURRENCY="2")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "sora-feedback-api: configuration error: WEB_CONCURRENCY must be 1"
    ), result.stderr
    assert not (tmp_path / "feedback.db").exists()  # refused before touching anything


def seed(database: Path, comments: dict[str, str | None], key: str = ENCRYPTION_KEY) -> None:
    """Feedback written through the store, as the server would (one client per target)."""
    prepare_database(database)
    store = SQLiteStore(database)
    listed = frozenset(Target("extension", target) for target in comments)
    try:
        for number, (target, comment) in enumerate(comments.items()):
            submission = Submission(Target("extension", target), 4, comment, None, None)
            domain.submit(
                store,
                Keyring(key),
                listed,
                submission,
                client_hash=f"{number:064x}",
                at_ms=domain.now_ms(),
            )
    finally:
        store.close()


def comments(database: Path, keyring: Keyring) -> list[tuple[str | None, bool]]:
    store = SQLiteStore(database)
    try:
        entries = [
            domain.reveal(keyring, row) for row in store.list_feedback(FeedbackFilter(), 100)
        ]
    finally:
        store.close()
    return sorted(((e.comment, e.comment_unavailable) for e in entries), key=str)


def test_reencrypt_moves_every_comment_to_the_new_key(tmp_path: Path) -> None:
    database = tmp_path / "feedback.db"
    notes = {f"rotate-{n}": f"note {n}" for n in range(7)}
    seed(database, {**notes, "no-comment": None})

    result = run(tmp_path, "reencrypt", "--batch-size", "3",
                 ENCRYPTION_KEY=NEW_KEY, ENCRYPTION_KEYS_OLD=ENCRYPTION_KEY)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "re-encrypted 7" in result.stdout
    assert rows(
        database, "SELECT DISTINCT comment_key_id FROM feedback WHERE comment IS NOT NULL"
    ) == [(key_id(NEW_KEY),)]
    # The old key is no longer needed to read them.
    assert comments(database, Keyring(NEW_KEY)) == sorted(
        [(note, False) for note in notes.values()] + [(None, False)], key=str
    )


def test_reencrypt_fails_loudly_when_a_key_is_missing(tmp_path: Path) -> None:
    database = tmp_path / "feedback.db"
    seed(database, {"orphan": "written under the first key"})
    result = run(tmp_path, "reencrypt", ENCRYPTION_KEY=NEW_KEY)
    assert result.returncode == 1
    assert "ENCRYPTION_KEYS_OLD" in result.stderr
    assert comments(database, Keyring(NEW_KEY)) == [(None, True)]


def test_recount_rebuilds_damaged_aggregates(tmp_path: Path) -> None:
    database = tmp_path / "feedback.db"
    seed(database, {"recount-a": None, "recount-b": "x"})
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        conn.execute("UPDATE targets SET count = 99")
        conn.execute("DELETE FROM days")
    assert aggregates(database) != recount(database)
    result = run(tmp_path, "recount")
    assert result.returncode == 0, result.stderr
    assert aggregates(database) == recount(database)
