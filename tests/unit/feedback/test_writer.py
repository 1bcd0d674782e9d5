"""The group-commit writer on a real SQLite file: batches, failures in a batch, shutdown.

To make batches deterministic, a first write holds the writer thread (it waits
on a gate inside its transaction) while the others queue up behind it; opening
the gate lets the writer take them.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sora.feedback.sqlite import connect
from sora.feedback.writer import GroupCommitWriter, WriterClosedError, WriterUnavailableError
from tests.support.polling import wait_for

SCHEMA = """
CREATE TABLE parents (id INTEGER PRIMARY KEY);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO parents VALUES (1);
"""


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "writer.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(SCHEMA)
    return path


class Harness:
    """A writer over ``database``, the batch sizes it committed, and a gate to hold it."""

    def __init__(self, database: Path, max_batch: int) -> None:
        self.database = database
        self.batches: list[int] = []
        self.writer = GroupCommitWriter(
            lambda: connect(database, synchronous="full", busy_timeout_ms=1000),
            observe=lambda size, _: self.batches.append(size),
            max_batch=max_batch,
        )
        self.pool = ThreadPoolExecutor(max_workers=32)
        self.gate = threading.Event()
        self._held = threading.Event()

    def hold(self) -> Future[Any]:
        """A write that keeps the writer busy until the gate opens."""

        def wait_at_gate(conn: sqlite3.Connection) -> str:
            insert("held")(conn)
            self._held.set()
            self.gate.wait(30)
            return "held"

        answer = self.pool.submit(self.writer.run, wait_at_gate)
        assert self._held.wait(30), "the writer never started the holding write"
        return answer

    def queue(self, operations: list[Callable[[sqlite3.Connection], Any]]) -> list[Future[Any]]:
        return queue_up(self.writer, self.pool, operations)

    def names(self) -> list[str]:
        with contextlib.closing(sqlite3.connect(self.database)) as conn:
            return [row[0] for row in conn.execute("SELECT name FROM items ORDER BY id")]


def queue_up(
    writer: GroupCommitWriter,
    pool: ThreadPoolExecutor,
    operations: list[Callable[[sqlite3.Connection], Any]],
) -> list[Future[Any]]:
    """Submit ``operations`` from threads of their own; return once all wait in the queue."""
    waiting = writer._queue.qsize()
    answers = [pool.submit(writer.run, op) for op in operations]
    wait_for(
        lambda: writer._queue.qsize() == waiting + len(operations),
        10,
        "the writes to queue up",
        interval=0.01,
    )
    return answers


@pytest.fixture
def harness(database: Path) -> Iterator[Harness]:
    made = Harness(database, max_batch=4)
    yield made
    made.gate.set()
    made.writer.close()
    made.pool.shutdown()


def insert(name: str, parent: int = 1) -> Callable[[sqlite3.Connection], str]:
    def operation(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO items (name, parent) VALUES (?, ?)", (name, parent))
        return name

    return operation


def test_each_write_returns_its_own_result_once_committed(harness: Harness) -> None:
    assert harness.writer.run(insert("a")) == "a"
    assert harness.names() == ["a"]  # visible to another connection: committed
    assert harness.batches == [1]


def test_writes_waiting_together_share_one_commit_up_to_the_batch_limit(
    harness: Harness,
) -> None:
    held = harness.hold()
    answers = harness.queue([insert(f"w{n}") for n in range(10)])
    harness.gate.set()
    assert held.result(30) == "held"
    assert [answer.result(30) for answer in answers] == [f"w{n}" for n in range(10)]
    assert harness.batches == [1, 4, 4, 2]  # the held write alone, then the queue in fours
    assert sorted(harness.names()) == sorted(["held", *(f"w{n}" for n in range(10))])


def test_a_failing_write_fails_alone_and_its_batch_commits(harness: Harness) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO items (name) VALUES ('half-done')")
        raise ValueError("a bug in one operation")

    harness.hold()
    answers = harness.queue([insert("first"), insert("held"), broken, insert("last")])
    harness.gate.set()
    assert answers[0].result(30) == "first"
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        answers[1].result(30)
    with pytest.raises(ValueError, match="a bug in one operation"):
        answers[2].result(30)
    assert answers[3].result(30) == "last"
    assert harness.batches == [1, 4]  # one commit for the four, failures included
    assert harness.names() == ["held", "first", "last"]  # nothing of the failed ones


def test_a_batch_whose_commit_fails_is_retried_write_by_write(harness: Harness) -> None:
    # A deferred foreign key fails at COMMIT: the whole transaction is refused, and
    # only trying each write alone tells which one it was.
    harness.hold()
    answers = harness.queue([insert("good-1"), insert("orphan", parent=99), insert("good-2")])
    harness.gate.set()
    assert answers[0].result(30) == "good-1"
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        answers[1].result(30)
    assert answers[2].result(30) == "good-2"
    assert harness.batches == [1, 1, 1]  # the held write; then the two good ones, alone
    assert harness.names() == ["held", "good-1", "good-2"]


def test_close_commits_and_answers_every_queued_write_then_refuses_more(
    harness: Harness,
) -> None:
    held = harness.hold()
    answers = harness.queue([insert(f"q{n}") for n in range(6)])
    closing = harness.pool.submit(harness.writer.close)
    wait_for(lambda: harness.writer._closed, 10, "close() to begin", interval=0.01)
    with pytest.raises(WriterClosedError):
        harness.writer.run(insert("too-late"))
    harness.gate.set()
    closing.result(30)
    # close() returns once every queued write is committed and answered; the callers'
    # threads may still be waking up, so their futures get a moment to resolve.
    assert sorted(harness.names()) == sorted(["held", *(f"q{n}" for n in range(6))])
    assert held.result(10) == "held"
    assert [answer.result(10) for answer in answers] == [f"q{n}" for n in range(6)]


def test_a_database_that_cannot_be_opened_answers_unavailable_then_is_retried(
    database: Path,
) -> None:
    attempts: list[int] = []

    def open_second_time() -> sqlite3.Connection:
        attempts.append(1)
        if len(attempts) == 1:
            raise sqlite3.OperationalError("unable to open database file")
        return connect(database, synchronous="full", busy_timeout_ms=1000)

    writer = GroupCommitWriter(open_second_time)
    try:
        with pytest.raises(WriterUnavailableError, match="unable to open"):
            writer.run(insert("first"))
        assert writer.run(insert("second")) == "second"
    finally:
        writer.close()


def test_a_lock_held_elsewhere_fails_the_whole_batch_at_one_begin(database: Path) -> None:
    # Retrying write by write would wait busy_timeout once per write of the batch.
    statements: list[str] = []
    connecting, opening = threading.Event(), threading.Event()

    def open_when_let() -> sqlite3.Connection:
        connecting.set()  # the writer took the first write and opens its connection
        opening.wait(30)
        conn = connect(database, synchronous="full", busy_timeout_ms=100)
        conn.set_trace_callback(statements.append)
        return conn

    writer = GroupCommitWriter(open_when_let)
    pool = ThreadPoolExecutor(max_workers=8)
    blocker = sqlite3.connect(database, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        first = pool.submit(writer.run, insert("first"))
        assert connecting.wait(30), "the writer never took the first write"
        batch = queue_up(writer, pool, [insert(f"b{n}") for n in range(3)])
        opening.set()
        for answer in (first, *batch):
            with pytest.raises(WriterUnavailableError, match="locked"):
                answer.result(30)
        assert statements.count("BEGIN IMMEDIATE") == 2  # one per batch, none per write
    finally:
        blocker.close()
        writer.close()
        pool.shutdown()
