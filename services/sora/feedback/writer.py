"""The one SQLite writer of the feedback API: a thread that commits queued writes in groups.

SQLite admits one writer at a time and a durable commit costs an ``fsync``. So
request threads do not write: each hands its write to the writer thread through
a queue and waits. The writer takes every request waiting (up to
``max_batch``), runs each in its own savepoint inside one ``BEGIN IMMEDIATE``
transaction, commits once, and only then answers each caller: N concurrent
submissions cost one fsync, and nobody hears "done" before the transaction
holding its write is durable.

A request that fails rolls back to its savepoint and fails alone. Should the
transaction fail as a whole (``COMMIT`` refused, or SQLite abandoning the
transaction after an error such as a full disk), nothing of it was committed
and each request of the batch is tried again in a transaction of its own, so
that one bad request cannot take the others down; a ``BEGIN`` that cannot take
the lock (another program holding it past ``busy_timeout``) fails the batch at
once, since no request of it is the cause. ``close()`` stops taking
requests, commits every one already queued, answers them and returns.

One writer per database file and process: the server runs a single gunicorn
worker (``FeedbackSettings`` refuses ``WEB_CONCURRENCY`` other than 1), whose
threads all share this writer. gunicorn builds the app in its master before it
forks, so the thread and its connection start on the first write, in the
process that writes.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

log = logging.getLogger("sora.feedback.writer")
T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], T]
MAX_BATCH: Final = 64
_SHUTDOWN_SECONDS: Final = 60.0


class WriterTimeoutError(Exception):
    """No answer in time; the write may still be committed later."""


class WriterUnavailableError(Exception):
    """The writer could not commit (disk error, database locked by another program)."""


class WriterClosedError(WriterUnavailableError):
    """The writer was closed before the request reached it; nothing was written."""


@dataclass
class _Request:
    operation: Operation[Any]
    answer: Future[Any] = field(default_factory=Future)


class _TransactionFailedError(Exception):
    """The batch's transaction failed as a whole: nothing of it was committed."""

    def __init__(self, cause: sqlite3.Error, *, at_begin: bool = False) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.at_begin = at_begin  # before any request ran: none of them is the cause

    def answer(self) -> Exception:
        """What a request alone in the failed transaction hears: its own constraint
        violation as such, anything else as the writer being unavailable."""
        if isinstance(self.cause, sqlite3.IntegrityError):
            return self.cause
        return WriterUnavailableError(str(self.cause))


class GroupCommitWriter:
    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        observe: Callable[[int, float], None] | None = None,
        timeout: float = 10.0,
        max_batch: int = MAX_BATCH,
    ) -> None:
        """``connect`` opens the writer's connection (in the writer thread); ``observe``
        receives each commit's batch size and duration."""
        self._connect = connect
        self._observe = observe
        self._timeout = timeout
        self._max_batch = max_batch
        self._lock = threading.Lock()  # orders run()'s enqueueing against close()
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None  # the process whose thread serves self._queue
        self._closed = False

    def run(self, operation: Operation[T], timeout: float | None = None) -> T:
        """Apply ``operation(connection)`` and return its result once it is committed."""
        request = _Request(operation)
        with self._lock:
            if self._closed:
                raise WriterClosedError("the writer is closed")
            self._start_in_this_process()
            self._queue.put(request)
        try:
            result: T = request.answer.result(timeout or self._timeout)
        except FutureTimeoutError:
            raise WriterTimeoutError("the writer did not answer in time") from None
        return result

    def close(self) -> None:
        """Refuse new requests; commit and answer every queued one; stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread if self._pid == os.getpid() else None
            if thread is not None:
                self._queue.put(None)  # the writer commits what came before, then ends
        if thread is not None:
            thread.join(_SHUTDOWN_SECONDS)

    def _start_in_this_process(self) -> None:
        if self._pid == os.getpid():
            return
        # A fresh queue and thread: a forked child inherits neither the parent's thread
        # nor anything it was waiting for.
        self._queue = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._serve, args=(self._queue,), name="sqlite-writer", daemon=True
        )
        self._thread.start()
        self._pid = os.getpid()

    # --- the writer thread ---------------------------------------------------------------------

    def _serve(self, requests: queue.SimpleQueue[_Request | None]) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                batch, stopping = take_batch(requests, self._max_batch)
                if batch:
                    if conn is None:
                        conn = self._open(batch)
                    if conn is not None:
                        try:
                            self._commit(conn, batch)
                        except Exception as error:  # never leave a caller waiting
                            log.exception("the writer failed; reopening its connection")
                            _fail_unanswered(batch, error)
                            conn.close()
                            conn = None
                if stopping:
                    return
        finally:
            if conn is not None:
                conn.close()

    def _open(self, batch: list[_Request]) -> sqlite3.Connection | None:
        try:
            return self._connect()
        except Exception as error:  # answer this batch; the next one tries again
            log.error("cannot open the database for writing: %s", error)
            _fail_unanswered(batch, error)
            return None

    def _commit(self, conn: sqlite3.Connection, batch: list[_Request]) -> None:
        started = time.perf_counter()
        try:
            outcomes = self._transaction(conn, batch)
        except _TransactionFailedError as failure:
            if len(batch) == 1 or failure.at_begin:
                outcomes = [failure.answer() for _ in batch]  # an exception each
            else:
                log.warning(
                    "write transaction of %d failed (%s): retrying each", len(batch), failure
                )
                outcomes = [self._alone(conn, request) for request in batch]
        else:
            if self._observe:
                self._observe(len(batch), time.perf_counter() - started)
        for request, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                request.answer.set_exception(outcome)
            else:
                request.answer.set_result(outcome)

    def _alone(self, conn: sqlite3.Connection, request: _Request) -> Any:
        started = time.perf_counter()
        try:
            (outcome,) = self._transaction(conn, [request])
        except _TransactionFailedError as failure:
            return failure.answer()
        if self._observe:
            self._observe(1, time.perf_counter() - started)
        return outcome

    def _transaction(self, conn: sqlite3.Connection, batch: list[_Request]) -> list[Any]:
        """Each request's result or exception, once the transaction holding them committed."""
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:  # locked by another program too long, disk trouble
            raise _TransactionFailedError(error, at_begin=True) from error
        try:
            outcomes = [_apply(conn, request) for request in batch]
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise _TransactionFailedError(error) from error
        return outcomes


def _fail_unanswered(batch: list[_Request], error: Exception) -> None:
    for request in batch:
        if not request.answer.done():
            request.answer.set_exception(WriterUnavailableError(str(error)))


def _apply(conn: sqlite3.Connection, request: _Request) -> Any:
    """One request in its own savepoint: its failure is its own, the batch goes on."""
    conn.execute("SAVEPOINT request")
    try:
        value = request.operation(conn)
    except Exception as error:
        if not conn.in_transaction:  # SQLite rolled the whole transaction back
            raise _AbandonedError(str(error)) from error
        conn.execute("ROLLBACK TO request")
        conn.execute("RELEASE request")
        if not isinstance(error, sqlite3.DatabaseError):
            log.exception("write operation failed")
        return error
    conn.execute("RELEASE request")
    return value


class _AbandonedError(sqlite3.OperationalError):
    """An operation's error ended the transaction itself (SQLite rolled it back)."""


def take_batch(
    requests: queue.SimpleQueue[_Request | None], limit: int
) -> tuple[list[_Request], bool]:
    """Wait for one request, then take those already waiting, up to ``limit``.

    Returns the batch and whether ``close()`` asked the writer to stop (after it)."""
    batch: list[_Request] = []
    item = requests.get()
    while item is not None:  # None: close() asked the writer to stop
        batch.append(item)
        if len(batch) >= limit:
            return batch, False
        try:
            item = requests.get_nowait()
        except queue.Empty:
            return batch, False
    return batch, True
