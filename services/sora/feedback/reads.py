"""The reads both stores make, written once over each engine's ``_query`` and dialect.

Both engines keep the same tables and columns; what differs is the placeholder
(``?`` for sqlite3, ``%s`` for psycopg), how a listing is made to read its index,
and that PostgreSQL keeps the kind and day totals in several rows per key (see its
migration). An engine states those as class attributes and inherits the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

from sora.feedback import records
from sora.feedback.model import (
    TARGET_TYPES,
    DayCount,
    FeedbackFilter,
    KindTotals,
    Order,
    StoredFeedback,
    Target,
    TargetAggregate,
)

#: A listing over both kinds merges the two per-kind listings in the same order.
BOTH_KINDS_ORDER: Final = {
    "score": "score DESC, count DESC, target_type, target_id",
    "trending": "trend_log2 DESC, target_type, target_id",
    "count": "count DESC, target_type, target_id",
}


class SqlReads:
    #: The engine's bound-parameter marker.
    placeholder: ClassVar[str]
    #: By order: a listing of one kind (kind, limit) and of both (kind, limit, kind, limit, limit).
    ranked: ClassVar[Mapping[str, str]]
    ranked_both: ClassVar[Mapping[str, str]]
    #: target_type, count, rating_sum, r1..r5, targets: one row per kind, ordered by kind.
    kind_totals_sql: ClassVar[str]
    #: day, count, rating_sum of the days from a first day (one parameter), ordered by day.
    daily_totals_sql: ClassVar[str]
    #: Does the driver bind ``hidden`` as a boolean (psycopg) rather than 0/1 (sqlite3)?
    binds_booleans: ClassVar[bool] = False

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[records.Row]:
        raise NotImplementedError

    def ranked_targets(self, kind: str | None, order: Order, limit: int) -> list[TargetAggregate]:
        return self._targets(order, kind, limit)

    def busiest_targets(self, kind: str | None, limit: int) -> list[TargetAggregate]:
        return self._targets("count", kind, limit)

    def _targets(self, order: str, kind: str | None, limit: int) -> list[TargetAggregate]:
        if kind:
            rows = self._query(self.ranked[order], (kind, limit))
        else:
            first, second = TARGET_TYPES
            rows = self._query(self.ranked_both[order], (first, limit, second, limit, limit))
        return [records.aggregate(row) for row in rows]

    def target(self, target: Target) -> TargetAggregate | None:
        p = self.placeholder
        rows = self._query(
            f"{records.TARGET_SELECT} WHERE target_type = {p} AND target_id = {p}",
            (target.type, target.id),
        )
        return records.aggregate(rows[0]) if rows else None

    def counted_targets(self) -> list[Target]:
        rows = self._query("SELECT target_type, target_id FROM targets WHERE count > 0")
        return [Target(*row) for row in rows]

    def kind_totals(self) -> list[KindTotals]:
        return [
            KindTotals(row[0], int(row[1]), int(row[2]), records.histogram(row[3:8]), int(row[8]))
            for row in self._query(self.kind_totals_sql)
        ]

    def daily_counts(self, first_day: str, target: Target | None = None) -> list[DayCount]:
        p = self.placeholder
        if target is None:
            rows = self._query(self.daily_totals_sql, (first_day,))
        else:
            rows = self._query(
                "SELECT d.day, d.count, d.rating_sum FROM target_days d"  # noqa: S608 - constants only
                " JOIN targets t ON t.id = d.target_ref"
                f" WHERE t.target_type = {p} AND t.target_id = {p} AND d.day >= {p}"
                " ORDER BY d.day",
                (target.type, target.id, first_day),
            )
        return [DayCount(row[0], int(row[1]), int(row[2])) for row in rows]

    def list_feedback(
        self, filters: FeedbackFilter, limit: int, before_id: int | None = None
    ) -> list[StoredFeedback]:
        p = self.placeholder
        clauses, params = records.where(filters, p, booleans=self.binds_booleans)
        if before_id is not None:
            clauses.append(f"f.id < {p}")
            params.append(before_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"{records.FEEDBACK_SELECT}{where} ORDER BY f.id DESC LIMIT {p}"
        return [records.feedback(row) for row in self._query(sql, [*params, limit])]

    def comments_to_rotate(
        self, current_key_id: str, after_id: int, limit: int
    ) -> list[StoredFeedback]:
        p = self.placeholder
        rows = self._query(
            f"{records.FEEDBACK_SELECT} WHERE f.comment IS NOT NULL AND f.comment_key_id <> {p}"
            f" AND f.id > {p} ORDER BY f.id LIMIT {p}",
            (current_key_id, after_id, limit),
        )
        return [records.feedback(row) for row in rows]
