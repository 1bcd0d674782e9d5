"""The PostgreSQL implementation of :class:`~sora.feedback.store.FeedbackStore`.

* psycopg 3 with its connection pool, one pool per process (opened on first
  use: gunicorn builds the app before it forks). Values are always bound
  server-side (``%s`` placeholders); no SQL is built from input.
* Every write is one transaction in READ COMMITTED. Aggregates move by
  increments inside ``UPDATE`` and ``INSERT … ON CONFLICT … DO UPDATE``: the row
  lock those statements take makes concurrent writers from any number of
  processes and replicas add up exactly, without reading a value into Python
  and writing it back. Locks are taken in one order (feedback row → target →
  target day → day → kind), so writers never deadlock one another.
* ``kinds`` and ``days`` have several rows per key (see the migration): every
  write adds to them, and one row per key would queue all writes behind one lock.
* Commits are durable as the server is configured (``synchronous_commit=on``,
  the default, waits for the WAL flush, and for a synchronous standby where
  there is one).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import psycopg
import psycopg_pool
from psycopg import conninfo

from sora.feedback import ranking, records, schema_migrations
from sora.feedback.model import (
    CommentRotation,
    NewFeedback,
    SubmitResult,
    Target,
    utc_day,
)
from sora.feedback.reads import BOTH_KINDS_ORDER, SqlReads
from sora.feedback.store import StorageUnavailableError

URL_SCHEMES: Final = ("postgresql://", "postgres://")
SHARDS: Final = 16  # rows per key in kinds and days; see the migration
# Any constant will do: it names "the feedback API's migrations" among advisory locks.
_MIGRATION_LOCK: Final = 0x50_52_41_5F_46_42  # "SORA_FB"
_LEDGER: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text    NOT NULL,
    applied_at bigint  NOT NULL
)"""
_ATTEMPTS: Final = 3  # a transaction chosen as a deadlock or serialization victim is re-run
_SHARD: Final = f"(pg_backend_pid() %% {SHARDS})"  # %% : a literal % beside parameters

_RANKED: Final = {
    "score": f"{records.TARGET_SELECT} WHERE target_type = %s AND count > 0"
    " ORDER BY score DESC, count DESC, target_id LIMIT %s",
    "trending": f"{records.TARGET_SELECT} WHERE target_type = %s AND trend_log2 IS NOT NULL"
    " ORDER BY trend_log2 DESC, target_id LIMIT %s",
    "count": f"{records.TARGET_SELECT} WHERE target_type = %s AND count > 0"
    " ORDER BY count DESC, target_id LIMIT %s",
}
_RANKED_BOTH: Final = {
    order: f"({_RANKED[order]}) UNION ALL ({_RANKED[order]}) ORDER BY {columns} LIMIT %s"
    for order, columns in BOTH_KINDS_ORDER.items()
}


def _score(count: str, rating_sum: str) -> str:
    """ranking.bayesian_average in SQL, over two SQL expressions (the same float operations)."""
    prior = float(ranking.PRIOR_WEIGHT * ranking.PRIOR_MEAN)
    return f"({prior}::double precision + {rating_sum}) / ({int(ranking.PRIOR_WEIGHT)} + {count})"


# One move of a target's aggregates: counts by increments, score and trend from the row's
# values under its lock (SET expressions see the row as it was before this UPDATE).
_MOVE_TARGET: Final = (
    "UPDATE targets SET count = count + %(count)s, rating_sum = rating_sum + %(sum)s,"  # noqa: S608 - constants only
    " r1 = r1 + %(r1)s, r2 = r2 + %(r2)s, r3 = r3 + %(r3)s, r4 = r4 + %(r4)s, r5 = r5 + %(r5)s,"
    f" score = {_score('count + %(count)s', 'rating_sum + %(sum)s')},"
    " trend_log2 = CASE WHEN count + %(count)s = 0 THEN NULL ELSE"
    " sora_log2_add(sora_log2_remove(trend_log2, %(removed)s), %(added)s) END"
    " WHERE id = %(ref)s RETURNING target_type, count"
)
_MOVE_KIND: Final = (
    "INSERT INTO kinds (target_type, shard, count, rating_sum, r1, r2, r3, r4, r5, targets)"  # noqa: S608 - constants only
    f" VALUES (%s, {_SHARD}, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (target_type, shard) DO UPDATE SET count = kinds.count + excluded.count,"
    " rating_sum = kinds.rating_sum + excluded.rating_sum, r1 = kinds.r1 + excluded.r1,"
    " r2 = kinds.r2 + excluded.r2, r3 = kinds.r3 + excluded.r3, r4 = kinds.r4 + excluded.r4,"
    " r5 = kinds.r5 + excluded.r5, targets = kinds.targets + excluded.targets"
)
_MOVE_TARGET_DAY: Final = (
    "INSERT INTO target_days (target_ref, day, count, rating_sum) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (target_ref, day) DO UPDATE SET count = target_days.count + excluded.count,"
    " rating_sum = target_days.rating_sum + excluded.rating_sum"
)
_MOVE_DAY: Final = (
    f"INSERT INTO days (day, shard, count, rating_sum) VALUES (%s, {_SHARD}, %s, %s)"  # noqa: S608 - constants only
    " ON CONFLICT (day, shard) DO UPDATE SET count = days.count + excluded.count,"
    " rating_sum = days.rating_sum + excluded.rating_sum"
)
_INSERT_FEEDBACK: Final = (
    "INSERT INTO feedback (target_ref, client_hash, rating, comment, comment_key_id,"
    " client_version, locale, created_at, submitted_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)

T = TypeVar("T")


def is_url(value: str) -> bool:
    return value.startswith(URL_SCHEMES)


def redacted(url: str) -> str:
    """The URL without its password, for messages (secrets are never logged)."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    parts.pop("password", None)
    host, port, name = parts.get("host", ""), parts.get("port", ""), parts.get("dbname", "")
    return f"postgresql://{parts.get('user', '')}@{host}{':' if port else ''}{port}/{name}"


@contextlib.contextmanager
def _storage_errors() -> Iterator[None]:
    """Operational trouble becomes StorageUnavailableError (503); programming errors stay."""
    try:
        yield
    except (psycopg.OperationalError, psycopg_pool.PoolTimeout, psycopg.InterfaceError) as error:
        raise StorageUnavailableError(f"{type(error).__name__}: {error}") from error


# --- migrations -------------------------------------------------------------------------------


def prepare_database(
    url: str, *, timeout_seconds: float = 10.0
) -> list[schema_migrations.Migration]:
    """Apply pending migrations. Replicas starting together wait for one another on an
    advisory lock, so each migration is applied exactly once; each runs in its own
    transaction with its ledger row (PostgreSQL's DDL is transactional)."""
    with (
        psycopg.connect(
            url, autocommit=True, connect_timeout=max(1, round(timeout_seconds))
        ) as conn,
        _migration_lock(conn),
    ):
        conn.execute(_LEDGER)
        known = schema_migrations.available("postgresql")
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        schema_migrations.check_newest(done, known)
        applied = []
        for migration in known:
            if migration.version in done:
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())  # a script: no parameters, several statements
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, int(time.time() * 1000)),
                )
            applied.append(migration)
        return applied


@contextlib.contextmanager
def _migration_lock(conn: psycopg.Connection[Any]) -> Iterator[None]:
    conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))


# --- the store --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Change:
    """A rating entering (+1) or leaving (-1) the visible aggregates."""

    sign: int
    rating: int
    at_ms: int


class PostgresStore(SqlReads):
    placeholder = "%s"
    ranked = _RANKED
    ranked_both = _RANKED_BOTH
    # The kind and day totals are SHARDS rows per key: their sums are the totals.
    kind_totals_sql = (
        "SELECT target_type, sum(count), sum(rating_sum), sum(r1), sum(r2), sum(r3),"
        " sum(r4), sum(r5), sum(targets) FROM kinds GROUP BY target_type ORDER BY target_type"
    )
    daily_totals_sql = (
        "SELECT day, sum(count), sum(rating_sum) FROM days WHERE day >= %s"
        " GROUP BY day HAVING sum(count) > 0 ORDER BY day"
    )
    binds_booleans = True

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 4,
        timeout_seconds: float = 5.0,
        observe_commit: Callable[[int, float], None] | None = None,
    ) -> None:
        """Opens nothing yet: each process opens its own pool on first use. ``timeout``
        bounds the wait for a connection and every statement (then: 503)."""
        self.url = url
        self._pool_size = pool_size
        self._timeout = timeout_seconds
        self._observe = observe_commit
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[Any]] | None = None
        self._pool_pid = 0
        self._lock = threading.Lock()

    # --- plumbing ---

    def _connections(self) -> psycopg_pool.ConnectionPool[psycopg.Connection[Any]]:
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = psycopg_pool.ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self._pool_size,
                    timeout=self._timeout,
                    open=False,
                    kwargs={
                        "connect_timeout": max(1, round(self._timeout)),
                        "options": f"-c statement_timeout={int(self._timeout * 1000)}",
                        "application_name": "sora-feedback-api",
                    },
                    name="sora-feedback",
                )
                self._pool.open(wait=False)
                self._pool_pid = os.getpid()
            return self._pool

    def _transaction(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run ``work`` in one transaction, again if PostgreSQL chose it as a deadlock or
        serialization victim (it was rolled back whole, so nothing was applied)."""
        for attempt in range(1, _ATTEMPTS + 1):
            started = time.perf_counter()
            try:
                with _storage_errors(), self._connections().connection() as conn:
                    conn.read_only = False  # pooled connections last served a read, maybe
                    with conn.transaction():
                        result = work(conn)
                    if self._observe:
                        self._observe(1, time.perf_counter() - started)
                    return result
            except StorageUnavailableError as error:
                if attempt == _ATTEMPTS or not isinstance(
                    error.__cause__, psycopg.errors.TransactionRollback
                ):
                    raise
        raise AssertionError("unreachable")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[records.Row]:
        with _storage_errors(), self._connections().connection() as conn:
            conn.read_only = True  # reads never write
            return conn.execute(sql, params).fetchall()

    def data_version(self) -> None:
        """Other processes write too, and nothing cheap says when: reads are never kept."""
        return

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.close()
            self._pool = None

    # --- writes ---

    def submit(self, entry: NewFeedback) -> SubmitResult:
        return self._transaction(lambda conn: _submit(conn, entry))

    def set_hidden(self, feedback_id: int, hidden: bool) -> bool:
        return self._transaction(lambda conn: _set_hidden(conn, feedback_id, hidden))

    def delete(self, feedback_id: int) -> bool:
        return self._transaction(lambda conn: _delete(conn, feedback_id))

    def rotate_comments(self, rotations: Sequence[CommentRotation]) -> int:
        ordered = sorted(rotations, key=lambda rotation: rotation.feedback_id)  # lock order
        return self._transaction(lambda conn: _rotate(conn, ordered))

    def check_writable(self) -> None:
        self._transaction(_touch_health)

    def import_feedback(self, entries: Iterable[NewFeedback]) -> int:
        return self._transaction(lambda conn: _import(conn, entries))

    def recount(self) -> None:
        self._transaction(recount)


# --- write operations (inside the store's transaction) ----------------------------------------


def target_ref(conn: psycopg.Connection[Any], target: Target) -> int:
    """The target's row id, created when missing (a concurrent creator is waited for)."""
    while True:
        row = conn.execute(
            "SELECT id FROM targets WHERE target_type = %s AND target_id = %s",
            (target.type, target.id),
        ).fetchone()
        if row is None:
            row = conn.execute(
                "INSERT INTO targets (target_type, target_id, score) VALUES (%s, %s, %s)"
                " ON CONFLICT (target_type, target_id) DO NOTHING RETURNING id",
                (target.type, target.id, ranking.bayesian_average(0, 0)),
            ).fetchone()
        if row is not None:
            return int(row[0])


def _submit(conn: psycopg.Connection[Any], entry: NewFeedback) -> SubmitResult:
    ref = target_ref(conn, entry.target)
    sealed = entry.comment
    key_id, ciphertext = (sealed.key_id, sealed.ciphertext) if sealed else (None, None)
    while True:
        old = conn.execute(
            "SELECT id, rating, hidden, submitted_at FROM feedback"
            " WHERE client_hash = %s AND target_ref = %s FOR UPDATE",
            (entry.client_hash, ref),
        ).fetchone()
        if old is not None:
            break
        created = conn.execute(
            f"{_INSERT_FEEDBACK} ON CONFLICT (client_hash, target_ref) DO NOTHING RETURNING id",
            (ref, entry.client_hash, entry.rating, ciphertext, key_id, entry.client_version,
             entry.locale, entry.submitted_at, entry.submitted_at),
        ).fetchone()  # fmt: skip
        if created is not None:
            _adjust(conn, ref, [_Change(+1, entry.rating, entry.submitted_at)])
            return SubmitResult(int(created[0]), replaced=False)
        # The same client's first rating of this target committed meanwhile: replace it.
    feedback_id, old_rating, hidden, old_at = old
    conn.execute(
        "UPDATE feedback SET rating = %s, comment = %s, comment_key_id = %s,"
        " client_version = %s, locale = %s, submitted_at = %s WHERE id = %s",
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


def _counted_row(conn: psycopg.Connection[Any], feedback_id: int) -> Any:
    """What the aggregates count of one feedback row, locked: target, rating, hidden, time."""
    return conn.execute(
        "SELECT target_ref, rating, hidden, submitted_at FROM feedback WHERE id = %s FOR UPDATE",
        (feedback_id,),
    ).fetchone()


def _set_hidden(conn: psycopg.Connection[Any], feedback_id: int, hidden: bool) -> bool:
    row = _counted_row(conn, feedback_id)
    if row is None:
        return False
    ref, rating, was_hidden, at_ms = row
    if was_hidden != hidden:
        conn.execute("UPDATE feedback SET hidden = %s WHERE id = %s", (hidden, feedback_id))
        _adjust(conn, ref, [_Change(-1 if hidden else +1, rating, at_ms)])
    return True


def _delete(conn: psycopg.Connection[Any], feedback_id: int) -> bool:
    row = _counted_row(conn, feedback_id)
    if row is None:
        return False
    ref, rating, hidden, at_ms = row
    conn.execute("DELETE FROM feedback WHERE id = %s", (feedback_id,))
    if not hidden:
        _adjust(conn, ref, [_Change(-1, rating, at_ms)])
    return True


def _rotate(conn: psycopg.Connection[Any], rotations: Sequence[CommentRotation]) -> int:
    changed = 0
    with conn.cursor() as cursor:
        for rotation in rotations:
            cursor.execute(
                "UPDATE feedback SET comment = %s, comment_key_id = %s"
                " WHERE id = %s AND comment = %s AND comment_key_id = %s",
                (rotation.new.ciphertext, rotation.new.key_id, rotation.feedback_id,
                 rotation.old.ciphertext, rotation.old.key_id),
            )  # fmt: skip
            changed += cursor.rowcount
    return changed


def _touch_health(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "INSERT INTO health (id, checked_at) VALUES (1, %s)"
        " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
        (int(time.time() * 1000),),
    )


def _adjust(conn: psycopg.Connection[Any], ref: int, changes: Sequence[_Change]) -> None:
    """Move every aggregate that counts this target's visible feedback, by increments."""
    delta = [0, 0, 0, 0, 0]
    removed = added = None
    for change in changes:
        delta[change.rating - 1] += change.sign
        point = ranking.trend_point(change.rating, change.at_ms)
        if change.sign > 0:
            added = point
        else:
            removed = point
    count, rating_sum = sum(delta), sum(star * d for star, d in enumerate(delta, start=1))
    moved = conn.execute(
        _MOVE_TARGET,
        {"count": count, "sum": rating_sum, "removed": removed, "added": added, "ref": ref,
         **{f"r{star}": d for star, d in enumerate(delta, start=1)}},
    ).fetchone()  # fmt: skip
    if moved is None:
        raise LookupError(f"target row {ref} vanished inside its transaction")
    target_type, new_count = moved
    was_counted, is_counted = new_count - count > 0, new_count > 0
    for change in changes:
        day, stars = utc_day(change.at_ms), change.sign * change.rating
        conn.execute(_MOVE_TARGET_DAY, (ref, day, change.sign, stars))
        conn.execute(_MOVE_DAY, (day, change.sign, stars))
        if change.sign < 0:  # no empty days, as a recount would have it
            conn.execute(
                "DELETE FROM target_days WHERE target_ref = %s AND day = %s AND count = 0",
                (ref, day),
            )
    conn.execute(
        _MOVE_KIND, (target_type, count, rating_sum, *delta, int(is_counted) - int(was_counted))
    )


# --- maintenance ------------------------------------------------------------------------------


def _import(conn: psycopg.Connection[Any], entries: Iterable[NewFeedback]) -> int:
    refs: dict[Target, int] = {}
    count = 0
    with conn.cursor() as cursor:
        for entry in entries:
            ref = refs.get(entry.target)
            if ref is None:
                ref = refs[entry.target] = target_ref(conn, entry.target)
            sealed = entry.comment
            cursor.execute(
                _INSERT_FEEDBACK,
                (ref, entry.client_hash, entry.rating,
                 sealed.ciphertext if sealed else None, sealed.key_id if sealed else None,
                 entry.client_version, entry.locale, entry.submitted_at, entry.submitted_at),
            )  # fmt: skip
            count += 1
    recount(conn)
    return count


def recount(conn: psycopg.Connection[Any]) -> None:
    """Rebuild every aggregate from the visible feedback rows (inside the caller's
    transaction; the target rows are locked first, so no writer moves them meanwhile)."""
    conn.execute("LOCK TABLE targets, kinds, days, target_days IN EXCLUSIVE MODE")
    conn.execute("DELETE FROM target_days")
    conn.execute("DELETE FROM days")
    conn.execute("DELETE FROM kinds")
    conn.execute(
        "INSERT INTO target_days (target_ref, day, count, rating_sum)"
        " SELECT target_ref, to_char(to_timestamp(submitted_at / 1000) AT TIME ZONE 'UTC',"
        " 'YYYY-MM-DD'), count(*), sum(rating) FROM feedback WHERE NOT hidden GROUP BY 1, 2"
    )
    conn.execute(
        "INSERT INTO days (day, shard, count, rating_sum)"
        " SELECT day, 0, sum(count), sum(rating_sum) FROM target_days GROUP BY day"
    )
    # log2 of the sum of 2^point, shifted by the largest point so that nothing overflows.
    points = (
        "SELECT target_ref, ln((rating - 1) / 4.0::double precision) / ln(2.0::double precision)"  # noqa: S608 - constants only
        f" + (submitted_at - {int(ranking.TREND_EPOCH_MS)})::double precision"
        f" / {int(ranking.TREND_HALF_LIFE_MS)} AS point"
        " FROM feedback WHERE NOT hidden AND rating > 1"
    )
    conn.execute(
        "UPDATE targets t SET count = coalesce(c.count, 0), rating_sum = coalesce(c.rating_sum, 0),"  # noqa: S608 - constants only
        " r1 = coalesce(c.r1, 0), r2 = coalesce(c.r2, 0), r3 = coalesce(c.r3, 0),"
        " r4 = coalesce(c.r4, 0), r5 = coalesce(c.r5, 0),"
        f" score = {_score('coalesce(c.count, 0)', 'coalesce(c.rating_sum, 0)')},"
        " trend_log2 = CASE WHEN coalesce(c.count, 0) > 0 THEN tr.total END"
        " FROM targets base"
        " LEFT JOIN (SELECT target_ref, count(*) AS count, sum(rating) AS rating_sum,"
        " count(*) FILTER (WHERE rating = 1) AS r1, count(*) FILTER (WHERE rating = 2) AS r2,"
        " count(*) FILTER (WHERE rating = 3) AS r3, count(*) FILTER (WHERE rating = 4) AS r4,"
        " count(*) FILTER (WHERE rating = 5) AS r5"
        " FROM feedback WHERE NOT hidden GROUP BY target_ref) c ON c.target_ref = base.id"
        " LEFT JOIN (SELECT target_ref, top + ln(sum(CASE WHEN point - top < -1000 THEN 0"
        " ELSE power(2.0::double precision, point - top) END)) / ln(2.0::double precision) AS total"
        f" FROM (SELECT target_ref, point, max(point) OVER (PARTITION BY target_ref) AS top"
        f" FROM ({points}) p) shifted GROUP BY target_ref, top) tr ON tr.target_ref = base.id"
        " WHERE t.id = base.id"
    )
    conn.execute(
        "INSERT INTO kinds (target_type, shard, count, rating_sum, r1, r2, r3, r4, r5, targets)"
        " SELECT k.target_type, 0, coalesce(sum(t.count), 0), coalesce(sum(t.rating_sum), 0),"
        " coalesce(sum(t.r1), 0), coalesce(sum(t.r2), 0), coalesce(sum(t.r3), 0),"
        " coalesce(sum(t.r4), 0), coalesce(sum(t.r5), 0), count(*) FILTER (WHERE t.count > 0)"
        " FROM (VALUES ('extension'), ('layout')) k (target_type)"
        " LEFT JOIN targets t ON t.target_type = k.target_type GROUP BY k.target_type"
    )
