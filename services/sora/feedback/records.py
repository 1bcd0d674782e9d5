"""Row mapping shared by both stores: database rows in, ``model`` values out.

Both engines select the same columns in the same order (``targets`` and the
feedback/targets join), so one set of functions reads them; the admin filters
are constant SQL fragments with the engine's placeholder, values always bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sora.feedback.model import (
    FeedbackFilter,
    SealedComment,
    StoredFeedback,
    Target,
    TargetAggregate,
)

Row = tuple[Any, ...]

TARGET_SELECT: Final = (
    "SELECT target_type, target_id, count, rating_sum, r1, r2, r3, r4, r5, score, trend_log2"
    " FROM targets"
)
FEEDBACK_SELECT: Final = (
    "SELECT f.id, t.target_type, t.target_id, f.client_hash, f.rating, f.comment,"
    " f.comment_key_id, f.client_version, f.locale, f.hidden, f.created_at, f.submitted_at"
    " FROM feedback f JOIN targets t ON t.id = f.target_ref"
)
_FILTERS: Final[dict[str, str]] = {
    "target_type": "t.target_type = {}",
    "target_id": "t.target_id = {}",
    "rating": "f.rating = {}",
    "hidden": "f.hidden = {}",
    "locale": "f.locale = {}",
    "since": "f.submitted_at >= {}",
    "until": "f.submitted_at < {}",
}


def histogram(values: Sequence[int]) -> tuple[int, int, int, int, int]:
    one, two, three, four, five = values
    return (int(one), int(two), int(three), int(four), int(five))


def aggregate(row: Row) -> TargetAggregate:
    return TargetAggregate(
        target=Target(row[0], row[1]),
        count=int(row[2]),
        rating_sum=int(row[3]),
        histogram=histogram(row[4:9]),
        score=row[9],
        trend_log2=row[10],
    )


def feedback(row: Row) -> StoredFeedback:
    return StoredFeedback(
        id=int(row[0]),
        target=Target(row[1], row[2]),
        client_hash=bytes(row[3]),
        rating=int(row[4]),
        comment=SealedComment(row[6], bytes(row[5])) if row[5] is not None else None,
        client_version=row[7],
        locale=row[8],
        hidden=bool(row[9]),
        created_at=int(row[10]),
        submitted_at=int(row[11]),
    )


def where(
    filters: FeedbackFilter, placeholder: str, *, booleans: bool = False
) -> tuple[list[str], list[Any]]:
    """WHERE clauses and their values; ``booleans``: the engine binds ``hidden`` as a boolean
    (PostgreSQL) rather than 0/1 (SQLite)."""
    clauses: list[str] = []
    params: list[Any] = []
    for name, clause in _FILTERS.items():
        value = getattr(filters, name)
        if value is not None:
            clauses.append(clause.format(placeholder))
            params.append(int(value) if isinstance(value, bool) and not booleans else value)
    if filters.has_comment is not None:
        clauses.append("f.comment IS NOT NULL" if filters.has_comment else "f.comment IS NULL")
    return clauses, params
