"""The SQLite store in-process, on real files: aggregates, time, group commit."""

from __future__ import annotations

import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sora.feedback import ranking
from sora.feedback.model import NewFeedback, Target
from sora.feedback.sqlite import SQLiteStore, prepare_database
from tests.integration.feedback.conftest import aggregates, recount, rows

DAY_MS = 86_400_000
NOW = 1_795_000_000_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    prepare_database(tmp_path / "feedback.db")
    opened = SQLiteStore(tmp_path / "feedback.db")
    yield opened
    opened.close()


def entry(
    client: int, target: str, value: int, at_ms: int = NOW, kind: str = "extension"
) -> NewFeedback:
    return NewFeedback(
        Target(kind, target), client.to_bytes(32, "big"), value, None, None, None, at_ms
    )


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("submit"),
            st.integers(0, 4),  # client
            st.sampled_from(["a", "b", "c"]),
            st.integers(1, 5),
            st.integers(0, 40),  # days ago
        ),
        st.tuples(st.sampled_from(["hide", "unhide", "delete"]), st.integers(1, 12)),
    ),
    max_size=30,
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(operations)
def test_aggregates_always_equal_a_recount_from_the_rows(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "feedback.db"
        prepare_database(database)
        store = SQLiteStore(database)
        try:
            for op in ops:
                if op[0] == "submit":
                    _, client, target, value, age = op
                    store.submit(
                        entry(int(client), str(target), int(value), NOW - int(age) * DAY_MS)
                    )
                elif op[0] == "delete":
                    store.delete(int(op[1]))
                else:
                    store.set_hidden(int(op[1]), op[0] == "hide")
            assert aggregates(database) == recount(database)
            assert_trending_matches_the_rows(store, database)
        finally:
            store.close()


def assert_trending_matches_the_rows(store: SQLiteStore, database: Path) -> None:
    for target_type, target_id in rows(database, "SELECT target_type, target_id FROM targets"):
        found = store.target(Target(target_type, target_id))
        assert found is not None
        expected = sum(
            ranking.trend_weight(value) * 2 ** (-(NOW - at) / ranking.TREND_HALF_LIFE_MS)
            for value, at in rows(
                database,
                "SELECT f.rating, f.submitted_at FROM feedback f"
                " JOIN targets t ON t.id = f.target_ref"
                " WHERE f.hidden = 0 AND t.target_type = ? AND t.target_id = ?",
                (target_type, target_id),
            )
        )
        assert ranking.trending_now(found.trend_log2, NOW) == pytest.approx(expected, abs=1e-6)


def test_daily_counts_follow_the_submission_day_and_move_on_replacement(store: SQLiteStore) -> None:
    store.submit(entry(1, "a", 4, NOW - 2 * DAY_MS))
    store.submit(entry(2, "a", 2, NOW - 2 * DAY_MS))
    store.submit(entry(1, "a", 5, NOW))  # client 1 re-rates today
    days = store.daily_counts("2000-01-01", Target("extension", "a"))
    assert [(d.count, d.rating_sum) for d in days] == [(1, 2), (1, 5)]


def test_old_feedback_counts_less_for_trending(store: SQLiteStore) -> None:
    for client in range(3):
        store.submit(entry(client, "old-favourite", 5, NOW - 30 * DAY_MS))
    store.submit(entry(9, "new-hit", 5, NOW))
    ranked = store.ranked_targets("extension", "trending", 10)
    assert [t.target.id for t in ranked] == ["new-hit", "old-favourite"]
    by_score = store.ranked_targets("extension", "score", 10)
    assert [t.target.id for t in by_score] == ["old-favourite", "new-hit"]


def test_concurrent_writes_share_commits_and_all_land(store: SQLiteStore, tmp_path: Path) -> None:
    batches: list[int] = []
    prepare_database(tmp_path / "grouped.db")
    grouped = SQLiteStore(tmp_path / "grouped.db", observe_commit=lambda n, _: batches.append(n))
    ids: list[int] = []
    lock = threading.Lock()

    def write(worker: int) -> None:
        for number in range(25):
            result = grouped.submit(entry(worker * 1000 + number, f"t{number % 5}", 1 + number % 5))
            with lock:
                ids.append(result.id)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grouped.close()
    assert sorted(ids) == list(range(1, 401))
    assert sum(batches) == 400
    assert max(batches) > 1, "no two writes ever shared a commit"
    assert aggregates(tmp_path / "grouped.db") == recount(tmp_path / "grouped.db")


def test_a_failing_write_does_not_take_its_batch_down(store: SQLiteStore) -> None:
    bad = entry(1, "x", 3)
    bad = NewFeedback(bad.target, b"short", 3, None, None, None, NOW)  # violates a CHECK
    results: list[object] = []

    def attempt(item: NewFeedback) -> None:
        try:
            results.append(store.submit(item))
        except sqlite3.IntegrityError as error:
            results.append(error)

    threads = [
        threading.Thread(target=attempt, args=(bad if n == 3 else entry(n, "x", 4),))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(r, sqlite3.IntegrityError) for r in results) == 1
    assert store.target(Target("extension", "x")).count == 7  # type: ignore[union-attr]


def test_reads_cannot_write(store: SQLiteStore) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store._reader().execute("DELETE FROM feedback")


def test_the_data_version_changes_with_every_commit_from_any_connection(
    store: SQLiteStore,
) -> None:
    before = store.data_version()
    assert store.data_version() == before  # reads alone change nothing
    store.submit(entry(1, "ext-version", 5))
    after_write = store.data_version()
    assert after_write != before
    # Another program's commit (a second process would use its own connection too).
    other = sqlite3.connect(store.path)
    with other:
        other.execute("UPDATE targets SET count = count WHERE target_id = 'ext-version'")
    other.close()
    assert store.data_version() != after_write


def test_each_thread_has_its_own_data_version(store: SQLiteStore) -> None:
    """Versions compare only within one connection: two threads never share a token."""
    tokens: list[object] = []
    thread = threading.Thread(target=lambda: tokens.append(store.data_version()))
    thread.start()
    thread.join()
    assert tokens[0] != store.data_version()
