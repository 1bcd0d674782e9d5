"""``sora-feedback-api copy-to-postgres``: move an SQLite database to PostgreSQL.

The copy is one PostgreSQL transaction: rows are copied with their ids (comment
ciphertexts, key ids and client hashes byte for byte: nothing is decrypted),
the aggregates are rebuilt from them, and then compared with what SQLite held,
together with a digest of every row. Any difference rolls the whole copy back,
so a failed or interrupted copy leaves the target as it was and can simply be
run again. A target that already holds feedback is refused unless ``replace``.
SQLite is read in one read transaction: a consistent snapshot even while a
server is still running (the runbook stops writes first anyway).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import psycopg

from sora.feedback import postgres

_FEEDBACK_COLUMNS: Final = (
    "id, target_ref, client_hash, rating, comment, comment_key_id, client_version, locale,"
    " hidden, created_at, submitted_at"
)
# What the digest covers, in one order for both engines (hidden as 0/1).
_DIGEST_SELECT: Final = (
    "SELECT f.id, t.target_type, t.target_id, f.client_hash, f.rating, f.comment,"
    " f.comment_key_id, f.client_version, f.locale, {hidden}, f.created_at, f.submitted_at"
    " FROM feedback f JOIN targets t ON t.id = f.target_ref ORDER BY f.id"
)
_TARGETS: Final = (
    "SELECT target_type, target_id, count, rating_sum, r1, r2, r3, r4, r5, score, trend_log2"
    " FROM targets WHERE count > 0 ORDER BY target_type, target_id"
)
_TARGET_DAYS: Final = (
    "SELECT t.target_type, t.target_id, d.day, d.count, d.rating_sum FROM target_days d"
    " JOIN targets t ON t.id = d.target_ref ORDER BY 1, 2, 3"
)
_SQLITE_TOTALS: Final = {
    "kinds": "SELECT target_type, count, rating_sum, r1, r2, r3, r4, r5, targets FROM kinds"
    " ORDER BY target_type",
    "days": "SELECT day, count, rating_sum FROM days ORDER BY day",
    "target_days": _TARGET_DAYS,
}
_POSTGRES_TOTALS: Final = {
    "kinds": "SELECT target_type, sum(count), sum(rating_sum), sum(r1), sum(r2), sum(r3),"
    " sum(r4), sum(r5), sum(targets) FROM kinds GROUP BY target_type ORDER BY target_type",
    "days": "SELECT day, sum(count), sum(rating_sum) FROM days GROUP BY day"
    " HAVING sum(count) > 0 ORDER BY day",
    "target_days": _TARGET_DAYS,
}


class CopyError(Exception):
    """The copy was refused or did not verify; the target is as it was."""


@dataclass(frozen=True)
class CopyReport:
    feedback: int
    targets: int
    digest: str


def copy_to_postgres(source: Path, url: str, *, replace: bool = False) -> CopyReport:
    if not source.is_file():
        raise CopyError(f"{source}: no such SQLite database")
    postgres.prepare_database(url)
    with _snapshot(source) as lite, psycopg.connect(url) as conn:
        with conn.transaction():
            _make_room(conn, replace)
            targets = _copy_targets(lite, conn)
            feedback = _copy_feedback(lite, conn)
            _continue_ids(lite, conn)
            postgres.recount(conn)
            digest = _verify(lite, conn, feedback)
        return CopyReport(feedback=feedback, targets=targets, digest=digest)


@contextlib.contextmanager
def _snapshot(source: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("BEGIN")  # one read transaction: every query sees the same snapshot
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


def _make_room(conn: psycopg.Connection[Any], replace: bool) -> None:
    row = conn.execute("SELECT count(*) FROM feedback").fetchone()
    held = int(row[0]) if row else 0
    if held and not replace:
        raise CopyError(
            f"the target database already holds {held} feedback rows;"
            " pass --replace to overwrite them"
        )
    # TRUNCATE also takes the lock that keeps a running server from writing meanwhile.
    conn.execute("TRUNCATE feedback, target_days, days, kinds, targets RESTART IDENTITY")


def _copy_targets(lite: sqlite3.Connection, conn: psycopg.Connection[Any]) -> int:
    rows = lite.execute("SELECT id, target_type, target_id FROM targets ORDER BY id")
    return _copy(conn, "COPY targets (id, target_type, target_id) FROM STDIN", rows)


def _copy_feedback(lite: sqlite3.Connection, conn: psycopg.Connection[Any]) -> int:
    rows = (
        (*row[:8], bool(row[8]), *row[9:])
        for row in lite.execute(f"SELECT {_FEEDBACK_COLUMNS} FROM feedback ORDER BY id")  # noqa: S608 - constants
    )
    return _copy(conn, f"COPY feedback ({_FEEDBACK_COLUMNS}) FROM STDIN", rows)


def _copy(conn: psycopg.Connection[Any], statement: str, rows: Iterable[Any]) -> int:
    count = 0
    with conn.cursor() as cursor, cursor.copy(statement.encode()) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _continue_ids(lite: sqlite3.Connection, conn: psycopg.Connection[Any]) -> None:
    """New rows continue after the highest id SQLite ever gave (ids are never reused,
    not even those of deleted feedback: SQLite's AUTOINCREMENT remembers them)."""
    for table in ("targets", "feedback"):
        highest = lite.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]  # noqa: S608 - constants
        remembered = lite.execute(
            "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = ?", (table,)
        ).fetchone()[0]
        last = max(int(highest), int(remembered))
        conn.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)",
            (table, max(last, 1), last > 0),
        )


def _verify(lite: sqlite3.Connection, conn: psycopg.Connection[Any], copied: int) -> str:
    source_digest = _digest(lite.execute(_DIGEST_SELECT.format(hidden="f.hidden")))
    with conn.cursor(name="sora_copy_digest") as cursor:  # server-side: rows stream
        cursor.execute(_DIGEST_SELECT.format(hidden="f.hidden::int").encode())
        target_digest = _digest(cursor)
    if source_digest != target_digest:
        raise CopyError("the copied rows differ from the source (digest mismatch); rolled back")
    row = conn.execute("SELECT count(*) FROM feedback").fetchone()
    if not row or int(row[0]) != copied:
        raise CopyError("the copied row count differs from the source; rolled back")
    _compare_targets(lite.execute(_TARGETS).fetchall(), conn.execute(_TARGETS.encode()).fetchall())
    for name, sql in _SQLITE_TOTALS.items():
        source = [tuple(row) for row in lite.execute(sql)]
        target = [  # PostgreSQL's sum() of bigint is numeric (Decimal): compare as int
            tuple(value if isinstance(value, str) else int(value) for value in row)
            for row in conn.execute(_POSTGRES_TOTALS[name].encode())
        ]
        if source != target:
            raise CopyError(
                f"{name} recounted in PostgreSQL differ from the SQLite database's;"
                " if `sora-feedback-api recount` on the SQLite file changes them, run it"
                " first; rolled back"
            )
    return source_digest


def _compare_targets(source: list[Any], target: list[Any]) -> None:
    """Counts and scores exactly; the trending sum to rounding (its float additions may
    run in another order)."""
    same = len(source) == len(target) and all(
        tuple(a[:10]) == tuple(b[:10]) and _close(a[10], b[10])
        for a, b in zip(source, target, strict=True)
    )
    if not same:
        raise CopyError(
            "target aggregates recounted in PostgreSQL differ from the SQLite database's;"
            " if `sora-feedback-api recount` on the SQLite file changes them, run it first;"
            " rolled back"
        )


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def _digest(rows: Iterable[Any]) -> str:
    """SHA-256 over every value of every row, each tagged and length-prefixed (unambiguous)."""
    digest = hashlib.sha256()
    for row in rows:
        for value in row:
            if value is None:
                tag, data = b"N", b""
            elif isinstance(value, (bytes, memoryview)):
                tag, data = b"B", bytes(value)
            else:
                tag, data = b"S", str(value).encode()
            digest.update(tag + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()
