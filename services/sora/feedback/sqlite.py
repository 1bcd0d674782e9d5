"""The SQLite implementation of :class:`~sora.feedback.store.FeedbackStore`.

* WAL mode: readers never block the writer nor each other; each request
  thread reads through its own ``query_only`` connection.
* One writer thread (:class:`~sora.feedback.writer.GroupCommitWriter`):
  short ``BEGIN IMMEDIATE`` transactions, several requests per commit.
  Maintenance (bulk import, recount) takes the write lock directly, like any
  other program would, and waits ``busy_timeout`` for it.
* Checkpoints: SQLite's automatic checkpoint, run by the writer's connection
  when a commit leaves the WAL over ``wal_autocheckpoint`` pages; readers and
  maintenance connections never checkpoint (:func:`connect`, the one place
  that decides it; ``0`` leaves checkpoints to another program).
* ``synchronous=FULL`` by default: the WAL is fsynced at every commit, so an
  acknowledged write survives ``kill -9`` and power loss alike (see
  docs/feedback-api.md for ``NORMAL``).
* Aggregates (``targets``, ``kinds``, ``days``, ``target_days``) count visible
  feedback and are adjusted in the transaction that changes a row; reads for
  statistics and recommendations touch only them, through indexes.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from sora.feedback import ranking, records, schema_migrations
from sora.feedback.model import (
    RATINGS,
    CommentRotation,
    NewFeedback,
    SubmitResult,
    Target,
    utc_day,
)
from sora.feedback.reads import BOTH_KINDS_ORDER, SqlReads
from sora.feedback.store import StorageUnavailableError
from sora.feedback.writer import GroupCommitWriter, WriterTimeoutError, WriterUnavailableError

SYNCHRONOUS_LEVELS: Final = ("full", "normal")
WAL_AUTOCHECKPOINT_PAGES: Final = 1000  # SQLite's default: about 4 MiB of WAL
Row = records.Row
T = TypeVar("T")
_READER_SERIALS: Final = itertools.count(1)  # tells one read connection's versions from another's

# Each listing reads one partial index in order (INDEXED BY: no sort, whatever the planner
# guesses); a listing over both kinds merges the two per-kind listings.
_RANKED: Final = {
    "score": f"{records.TARGET_SELECT} INDEXED BY targets_by_score"
    " WHERE target_type = ? AND count > 0 ORDER BY score DESC, count DESC, target_id LIMIT ?",
    "trending": f"{records.TARGET_SELECT} INDEXED BY targets_by_trend"
    " WHERE target_type = ? AND trend_log2 IS NOT NULL ORDER BY trend_log2 DESC, target_id LIMIT ?",
    "count": f"{records.TARGET_SELECT} INDEXED BY targets_by_count"
    " WHERE target_type = ? AND count > 0 ORDER BY count DESC, target_id LIMIT ?",
}
_UNION: Final = "SELECT * FROM ({listing}) UNION ALL SELECT * FROM ({listing})"
_RANKED_BOTH: Final = {
    order: f"{_UNION.format(listing=_RANKED[order])} ORDER BY {columns} LIMIT ?"
    for order, columns in BOTH_KINDS_ORDER.items()
}


def connect(
    path: Path,
    *,
    synchronous: str,
    busy_timeout_ms: int,
    read_only: bool = False,
    autocheckpoint_pages: int = 0,
) -> sqlite3.Connection:
    """A connection with the store's pragmas. Only the writer's checkpoints
    (``autocheckpoint_pages`` > 0); every other connection leaves the WAL alone."""
    if synchronous not in SYNCHRONOUS_LEVELS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_LEVELS}")
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -16000")  # 16 MiB per connection
    # The writer's too is 0 when Litestream replicates the file (SQLITE_WAL_AUTOCHECKPOINT=0):
    # Litestream checkpoints after it has copied the frames; a checkpoint of ours could
    # recycle frames it has not read (docs/backups.md, "Who checkpoints the WAL").
    conn.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint_pages)}")
    conn.execute("PRAGMA journal_size_limit = 67108864")  # WAL truncated to 64 MiB after it
    if read_only:
        conn.execute("PRAGMA query_only = ON")
    return conn


def prepare_database(
    path: Path, *, synchronous: str = "full", busy_timeout_ms: int = 5000
) -> list[schema_migrations.Migration]:
    """Create the file if needed, switch it to WAL and apply pending migrations."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise schema_migrations.SchemaError(f"{path}: cannot use WAL journal mode (got {mode})")
        return schema_migrations.migrate(conn)
    finally:
        conn.close()


@contextlib.contextmanager
def _storage_errors() -> Iterator[None]:
    """Operational trouble becomes StorageUnavailableError (503); programming errors stay errors."""
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except (sqlite3.DatabaseError, WriterTimeoutError, WriterUnavailableError) as error:
        raise StorageUnavailableError(str(error)) from error


class SQLiteStore(SqlReads):
    placeholder = "?"
    ranked = _RANKED
    ranked_both = _RANKED_BOTH
    kind_totals_sql = (
        "SELECT target_type, count, rating_sum, r1, r2, r3, r4, r5, targets"
        " FROM kinds ORDER BY target_type"
    )
    daily_totals_sql = "SELECT day, count, rating_sum FROM days WHERE day >= ? ORDER BY day"

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "full",
        busy_timeout_ms: int = 5000,
        observe_commit: Callable[[int, float], None] | None = None,
        autocheckpoint_pages: int = WAL_AUTOCHECKPOINT_PAGES,
    ) -> None:
        """Opens nothing yet: connections are made on first use, in the process that uses
        them (gunicorn builds the app before it forks)."""
        self.path = path
        self._synchronous = synchronous
        self._busy_timeout_ms = busy_timeout_ms
        self._writer = GroupCommitWriter(
            lambda: self._connect(autocheckpoint_pages=autocheckpoint_pages),
            observe=observe_commit,
        )
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    # --- plumbing ---

    def _connect(
        self, read_only: bool = False, autocheckpoint_pages: int = 0
    ) -> sqlite3.Connection:
        return connect(
            self.path,
            synchronous=self._synchronous,
            busy_timeout_ms=self._busy_timeout_ms,
            read_only=read_only,
            autocheckpoint_pages=autocheckpoint_pages,
        )

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection (never one inherited across a fork)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = self._connect(read_only=True)
            self._local.conn, self._local.pid = conn, os.getpid()
            self._local.serial = next(_READER_SERIALS)
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _write(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        with _storage_errors():
            return self._writer.run(operation)

    def _maintain(self, operation: Callable[[sqlite3.Connection], Any]) -> Any:
        """A long write on a connection of its own, outside the shared writer."""
        conn = self._connect()
        try:
            with _storage_errors():
                conn.execute("BEGIN IMMEDIATE")
            try:
                result = operation(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result
        finally:
            conn.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with _storage_errors():
            return self._reader().execute(sql, params).fetchall()

    def data_version(self) -> tuple[int, int]:
        """``PRAGMA data_version`` changes when another connection (the writer, another
        process) commits; it only compares within one connection, hence the serial."""
        with _storage_errors():
            (version,) = self._reader().execute("PRAGMA data_version").fetchone()
        return self._local.serial, version

    def close(self) -> None:
        """Commit and answer the writes still queued, then close every connection."""
        self._writer.close()
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()
        self._local = threading.local()

    # --- writes ---

    def submit(self, entry: NewFeedback) -> SubmitResult:
        return self._write(lambda conn: _submit(conn, entry))

    def set_hidden(self, feedback_id: int, hidden: bool) -> bool:
        return self._write(lambda conn: _set_hidden(conn, feedback_id, hidden))

    def delete(self, feedback_id: int) -> bool:
        return self._write(lambda conn: _delete(conn, feedback_id))

    def rotate_comments(self, rotations: Sequence[CommentRotation]) -> int:
        pending = list(rotations)
        return self._write(lambda conn: _rotate(conn, pending))

    def check_writable(self) -> None:
        self._write(_touch_health)

    def import_feedback(self, entries: Iterable[NewFeedback]) -> int:
        count: int = self._maintain(lambda conn: _import(conn, entries))
        return count

    def recount(self) -> None:
        self._maintain(_recount)


# --- write operations (run by the writer thread, each in a savepoint of its transaction) ------


@dataclass(frozen=True)
class _Change:
    """A rating entering (+1) or leaving (-1) the visible aggregates."""

    sign: int
    rating: int
    at_ms: int


def _target_ref(conn: sqlite3.Connection, target: Target) -> int:
    row = conn.execute(
        "SELECT id FROM targets WHERE target_type = ? AND target_id = ?", (target.type, target.id)
    ).fetchone()
    if row:
        return int(row[0])
    cursor = conn.execute(
        "INSERT INTO targets (target_type, target_id, score) VALUES (?, ?, ?)",
        (target.type, target.id, ranking.bayesian_average(0, 0)),
    )
    return int(cursor.lastrowid or 0)


def _submit(conn: sqlite3.Connection, entry: NewFeedback) -> SubmitResult:
    ref = _target_ref(conn, entry.target)
    key_id, ciphertext = (
        (entry.comment.key_id, entry.comment.ciphertext) if entry.comment else (None, None)
    )
    old = conn.execute(
        "SELECT id, rating, hidden, submitted_at FROM feedback"
        " WHERE client_hash = ? AND target_ref = ?",
        (entry.client_hash, ref),
    ).fetchone()
    if old is None:
        cursor = conn.execute(
            "INSERT INTO feedback (target_ref, client_hash, rating, comment, comment_key_id,"
            " client_version, locale, created_at, submitted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ref, entry.client_hash, entry.rating, ciphertext, key_id, entry.client_version,
             entry.locale, entry.submitted_at, entry.submitted_at),
        )  # fmt: skip
        _adjust(conn, ref, [_Change(+1, entry.rating, entry.submitted_at)])
        return SubmitResult(int(cursor.lastrowid or 0), replaced=False)
    feedback_id, old_rating, hidden, old_at = old
    conn.execute(
        "UPDATE feedback SET rating = ?, comment = ?, comment_key_id = ?, client_version = ?,"
        " locale = ?, submitted_at = ? WHERE id = ?",
        (entry.rating, ciphertext, key_id, entry.client_version, entry.locale,
         entry.submitted_at, feedback_id),
    )  # fmt: skip
    if not hidden:  # a hidden entry stays hidden, and out of the aggregates
        _adjust(
            conn,
            ref,
            [_Change(-1, old_rating, old_at), _Change(+1, entry.rating, entry.submitted_at)],
        )
    return SubmitResult(int(feedback_id), replaced=True)


def _counted_row(conn: sqlite3.Connection, feedback_id: int) -> Any:
    """What the aggregates count of one feedback row: target, rating, hidden, time (or None)."""
    return conn.execute(
        "SELECT target_ref, rating, hidden, submitted_at FROM feedback WHERE id = ?",
        (feedback_id,),
    ).fetchone()


def _set_hidden(conn: sqlite3.Connection, feedback_id: int, hidden: bool) -> bool:
    row = _counted_row(conn, feedback_id)
    if row is None:
        return False
    ref, rating, was_hidden, at_ms = row
    if bool(was_hidden) != hidden:
        conn.execute("UPDATE feedback SET hidden = ? WHERE id = ?", (int(hidden), feedback_id))
        _adjust(conn, ref, [_Change(-1 if hidden else +1, rating, at_ms)])
    return True


def _delete(conn: sqlite3.Connection, feedback_id: int) -> bool:
    row = _counted_row(conn, feedback_id)
    if row is None:
        return False
    ref, rating, hidden, at_ms = row
    conn.execute("DELETE FROM feedback WHERE id = ?", (feedback_id,))
    if not hidden:
        _adjust(conn, ref, [_Change(-1, rating, at_ms)])
    return True


def _rotate(conn: sqlite3.Connection, rotations: Sequence[CommentRotation]) -> int:
    cursor = conn.executemany(
        "UPDATE feedback SET comment = ?, comment_key_id = ?"
        " WHERE id = ? AND comment = ? AND comment_key_id = ?",
        [
            (r.new.ciphertext, r.new.key_id, r.feedback_id, r.old.ciphertext, r.old.key_id)
            for r in rotations
        ],
    )
    return cursor.rowcount


def _touch_health(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO health (id, checked_at) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
        (int(time.time() * 1000),),
    )


def _adjust(conn: sqlite3.Connection, ref: int, changes: Sequence[_Change]) -> None:
    """Move every aggregate that counts this target's visible feedback."""
    row = conn.execute(
        "SELECT target_type, count, rating_sum, r1, r2, r3, r4, r5, trend_log2"
        " FROM targets WHERE id = ?",
        (ref,),
    ).fetchone()
    target_type, old_count, rating_sum, *histogram = row[:8]
    trend = row[8]
    delta = [0, 0, 0, 0, 0]
    for change in sorted(changes, key=lambda c: c.sign):  # removals first
        delta[change.rating - 1] += change.sign
        point = ranking.trend_point(change.rating, change.at_ms)
        trend = (
            ranking.log2_add(trend, point) if change.sign > 0 else ranking.log2_remove(trend, point)
        )
        _bump_days(conn, ref, change)
    count = old_count + sum(delta)
    rating_sum += sum(rating * d for rating, d in zip(RATINGS, delta, strict=True))
    conn.execute(
        "UPDATE targets SET count = ?, rating_sum = ?, r1 = ?, r2 = ?, r3 = ?, r4 = ?, r5 = ?,"
        " score = ?, trend_log2 = ? WHERE id = ?",
        (count, rating_sum, *(h + d for h, d in zip(histogram, delta, strict=True)),
         ranking.bayesian_average(count, rating_sum), trend if count else None, ref),
    )  # fmt: skip
    conn.execute(
        "UPDATE kinds SET count = count + ?, rating_sum = rating_sum + ?, r1 = r1 + ?,"
        " r2 = r2 + ?, r3 = r3 + ?, r4 = r4 + ?, r5 = r5 + ?, targets = targets + ?"
        " WHERE target_type = ?",
        (sum(delta), sum(r * d for r, d in zip(RATINGS, delta, strict=True)), *delta,
         (count > 0) - (old_count > 0), target_type),
    )  # fmt: skip


def _bump_days(conn: sqlite3.Connection, ref: int, change: _Change) -> None:
    day = utc_day(change.at_ms)
    rating = change.sign * change.rating
    conn.execute(
        "INSERT INTO target_days (target_ref, day, count, rating_sum) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (target_ref, day) DO UPDATE SET count = count + excluded.count,"
        " rating_sum = rating_sum + excluded.rating_sum",
        (ref, day, change.sign, rating),
    )
    conn.execute(
        "INSERT INTO days (day, count, rating_sum) VALUES (?, ?, ?)"
        " ON CONFLICT (day) DO UPDATE SET count = count + excluded.count,"
        " rating_sum = rating_sum + excluded.rating_sum",
        (day, change.sign, rating),
    )
    if change.sign < 0:  # keep the tables free of empty days, as a recount would have them
        conn.execute(
            "DELETE FROM target_days WHERE target_ref = ? AND day = ? AND count = 0", (ref, day)
        )
        conn.execute("DELETE FROM days WHERE day = ? AND count = 0", (day,))


# --- maintenance ------------------------------------------------------------------------------


def _import(conn: sqlite3.Connection, entries: Iterable[NewFeedback]) -> int:
    refs: dict[Target, int] = {}

    def rows() -> Iterator[tuple[Any, ...]]:
        for entry in entries:
            ref = refs.get(entry.target)
            if ref is None:
                ref = refs[entry.target] = _target_ref(conn, entry.target)
            sealed = entry.comment
            yield (
                ref, entry.client_hash, entry.rating,
                sealed.ciphertext if sealed else None, sealed.key_id if sealed else None,
                entry.client_version, entry.locale, entry.submitted_at, entry.submitted_at,
            )  # fmt: skip

    cursor = conn.executemany(
        "INSERT INTO feedback (target_ref, client_hash, rating, comment, comment_key_id,"
        " client_version, locale, created_at, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows(),
    )
    _recount(conn)
    return cursor.rowcount


def _recount(conn: sqlite3.Connection) -> None:
    """Rebuild every aggregate from the visible feedback rows."""
    conn.execute("DELETE FROM target_days")
    conn.execute("DELETE FROM days")
    conn.execute(
        "INSERT INTO target_days (target_ref, day, count, rating_sum)"
        " SELECT target_ref, date(submitted_at / 1000, 'unixepoch'), count(*), sum(rating)"
        " FROM feedback WHERE hidden = 0 GROUP BY 1, 2"
    )
    conn.execute(
        "INSERT INTO days (day, count, rating_sum)"
        " SELECT day, sum(count), sum(rating_sum) FROM target_days GROUP BY day"
    )
    conn.execute(
        "UPDATE targets SET count = 0, rating_sum = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0, r5 = 0,"
        " score = ?, trend_log2 = NULL",
        (ranking.bayesian_average(0, 0),),
    )
    counts = conn.execute(
        "SELECT target_ref, count(*), sum(rating), sum(rating = 1), sum(rating = 2),"
        " sum(rating = 3), sum(rating = 4), sum(rating = 5)"
        " FROM feedback WHERE hidden = 0 GROUP BY target_ref"
    ).fetchall()
    conn.executemany(
        "UPDATE targets SET count = ?, rating_sum = ?, r1 = ?, r2 = ?, r3 = ?, r4 = ?, r5 = ?,"
        " score = ? WHERE id = ?",
        [(*row[1:], ranking.bayesian_average(row[1], row[2]), row[0]) for row in counts],
    )
    conn.executemany("UPDATE targets SET trend_log2 = ? WHERE id = ?", _trends(conn))
    conn.execute(
        "UPDATE kinds SET (count, rating_sum, r1, r2, r3, r4, r5, targets) = ("
        " SELECT coalesce(sum(count), 0), coalesce(sum(rating_sum), 0), coalesce(sum(r1), 0),"
        " coalesce(sum(r2), 0), coalesce(sum(r3), 0), coalesce(sum(r4), 0),"
        " coalesce(sum(r5), 0), coalesce(sum(count > 0), 0)"
        " FROM targets WHERE targets.target_type = kinds.target_type)"
    )


def _trends(conn: sqlite3.Connection) -> list[tuple[float | None, int]]:
    totals: dict[int, float | None] = {}
    for ref, rating, at_ms in conn.execute(
        "SELECT target_ref, rating, submitted_at FROM feedback WHERE hidden = 0 AND rating > 1"
    ):
        totals[ref] = ranking.log2_add(totals.get(ref), ranking.trend_point(rating, at_ms))
    return [(total, ref) for ref, total in totals.items()]
