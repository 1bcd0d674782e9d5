"""``sora-feedback-api copy-to-postgres`` on a real 100,000-row SQLite database and a real
PostgreSQL: nothing lost, ciphertexts untouched, re-runnable, a full target refused."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sora.feedback.crypto import Keyring, comment_context
from sora.feedback.model import NewFeedback, Target
from sora.feedback.sqlite import SQLiteStore, prepare_database
from tests.integration.feedback.conftest import (
    ADMIN,
    ENCRYPTION_KEY,
    aggregates,
    feedback_server,
    pg_aggregates,
    pg_rows,
    rows,
)
from tests.integration.feedback.test_commands import run
from tests.support.processes import Service

ROWS = 100_000
START_MS = 1_790_000_000_000
HOUR_MS = 3_600_000


def entries(count: int) -> Iterator[NewFeedback]:
    """Many clients over 60 targets and ~50 days; every 10th row has a sealed comment."""
    keyring = Keyring(ENCRYPTION_KEY)
    for number in range(count):
        target = Target(("extension", "layout")[number % 2], f"t-{number % 60:04d}")
        client = number.to_bytes(32, "big")
        comment = (
            keyring.seal(f"comment {number}", comment_context(target, client))
            if number % 10 == 0
            else None
        )
        yield NewFeedback(
            target, client, 1 + number * 7 % 5, comment, "1.2.3", "ja",
            START_MS + (number % 1200) * HOUR_MS,
        )  # fmt: skip


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 100,000-row SQLite database with some hidden, some deleted rows (a gap in the ids)."""
    database = tmp_path_factory.mktemp("copy-source") / "feedback.db"
    prepare_database(database)
    store = SQLiteStore(database)
    try:
        assert store.import_feedback(entries(ROWS)) == ROWS
        for feedback_id in range(7, ROWS, 997):
            store.set_hidden(feedback_id, True)
        store.delete(ROWS)  # the highest id: the copy must not hand it out again
        store.delete(500)
    finally:
        store.close()
    return database


def copy(tmp_path: Path, source: Path, url: str, *extra: str) -> tuple[int, str, str]:
    done = run(tmp_path, "copy-to-postgres", "--from", str(source), "--to", url, *extra)
    return done.returncode, done.stdout, done.stderr


def sqlite_digest_inputs(database: Path) -> list[tuple[object, ...]]:
    return rows(
        database,
        "SELECT id, client_hash, comment, comment_key_id, rating, hidden, created_at,"
        " submitted_at FROM feedback ORDER BY id",
    )


def test_the_copy_moves_every_row_byte_for_byte_with_the_same_aggregates(
    tmp_path: Path, source: Path, postgres_url: str
) -> None:
    code, out, err = copy(tmp_path, source, postgres_url)
    assert code == 0, err
    assert f"copied {ROWS - 2} feedback rows" in out
    assert "verified" in out
    copied = pg_rows(
        postgres_url,
        "SELECT id, client_hash, comment, comment_key_id, rating, hidden::int, created_at,"
        " submitted_at FROM feedback ORDER BY id",
    )
    assert [tuple(row) for row in copied] == sqlite_digest_inputs(source)
    assert pg_aggregates(postgres_url) == aggregates(source)


def test_the_copy_refuses_a_target_with_feedback_unless_told_and_can_be_run_again(
    tmp_path: Path, source: Path, postgres_url: str
) -> None:
    assert copy(tmp_path, source, postgres_url)[0] == 0
    code, _, err = copy(tmp_path, source, postgres_url)
    assert code == 1
    assert f"already holds {ROWS - 2} feedback rows; pass --replace" in err
    pg_rows(postgres_url, "DELETE FROM feedback WHERE id < 100 RETURNING id")  # damage it
    code, _, err = copy(tmp_path, source, postgres_url, "--replace")
    assert code == 0, err
    assert pg_rows(postgres_url, "SELECT count(*) FROM feedback") == [(ROWS - 2,)]
    assert pg_aggregates(postgres_url) == aggregates(source)


def test_a_copy_that_does_not_verify_leaves_the_target_untouched(
    tmp_path: Path, source: Path, postgres_url: str
) -> None:
    damaged = tmp_path / "damaged.db"
    with (
        contextlib.closing(sqlite3.connect(source)) as lite,
        contextlib.closing(sqlite3.connect(damaged)) as copy_of,
    ):
        lite.backup(copy_of)
    with contextlib.closing(sqlite3.connect(damaged)) as conn, conn:
        conn.execute("UPDATE targets SET count = count + 1 WHERE target_id = 't-0001'")
    code, _, err = copy(tmp_path, damaged, postgres_url)
    assert code == 1
    assert "differ from the SQLite database's" in err
    assert "recount" in err
    assert pg_rows(postgres_url, "SELECT count(*) FROM feedback") == [(0,)]


def test_the_api_on_the_copy_reads_the_comments_and_continues_the_ids(
    tmp_path: Path, source: Path, postgres_url: str, catalog: Service
) -> None:
    assert copy(tmp_path, source, postgres_url)[0] == 0
    with feedback_server(tmp_path, catalog.url, DATABASE_URL=postgres_url) as api:
        listed = requests.get(
            f"{api.url}/api/feedback",
            params={"target_id": "t-0000", "target_type": "extension", "limit": "5"},
            headers=ADMIN,
            timeout=10,
        ).json()
        with_comment = [item for item in listed["items"] if item.get("comment")]
        assert with_comment, listed
        assert with_comment[0]["comment"] == f"comment {with_comment[0]['id'] - 1}"
        created = requests.post(
            f"{api.url}/api/feedback",
            json={"target_type": "layout", "target_id": "t-0001", "rating": 4},
            headers={"X-Forwarded-For": "10.99.0.1"},
            timeout=10,
        )
        assert created.status_code == 201
        assert created.json()["id"] == ROWS + 1  # after the deleted highest id, never reused
