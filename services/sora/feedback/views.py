"""The API's answers, built as plain dicts of the response types in ``schemas.py`` (mypy
checks them against those types; /openapi.json is generated from them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sora.feedback import ranking, schemas
from sora.feedback.domain import (
    AdminEntry,
    DailyCount,
    Ranked,
    Statistics,
    TargetStatistics,
)
from sora.feedback.model import (
    EMPTY_HISTOGRAM,
    TARGET_TYPES,
    Histogram,
    KindTotals,
    Target,
    TargetType,
)
from sora.feedback.schemas import RecommendationsQuery


def iso(at_ms: int) -> str:
    return (
        datetime.fromtimestamp(at_ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _average(count: int, rating_sum: int) -> float | None:
    value = ranking.average(count, rating_sum)
    return None if value is None else round(value, 4)


def _kind(target: Target) -> TargetType:
    # Every stored target came through a validated body (or the catalog's listing).
    return cast(TargetType, target.type)


def histogram(values: Histogram) -> schemas.Histogram:
    one, two, three, four, five = values
    return {"1": one, "2": two, "3": three, "4": four, "5": five}


def ranked(item: Ranked) -> schemas.RankedTarget:
    aggregate = item.aggregate
    return {
        "target_type": _kind(aggregate.target),
        "target_id": aggregate.target.id,
        "count": aggregate.count,
        "average": _average(aggregate.count, aggregate.rating_sum),
        "score": round(aggregate.score, 4),
        "trending": round(item.trending, 6),
        "histogram": histogram(aggregate.histogram),
    }


def recommendations(query: RecommendationsQuery, items: list[Ranked]) -> schemas.Recommendations:
    return {"order": query.order, "kind": query.kind, "items": [ranked(item) for item in items]}


def _totals(count: int, rating_sum: int, values: Histogram, targets: int) -> schemas.Totals:
    return {
        "count": count,
        "average": _average(count, rating_sum),
        "histogram": histogram(values),
        "targets": targets,
    }


def _daily(days: list[DailyCount]) -> list[schemas.DayCount]:
    return [
        {"date": day.day, "count": day.count, "average": _average(day.count, day.rating_sum)}
        for day in days
    ]


def _combined(kinds: list[KindTotals]) -> Histogram:
    one, two, three, four, five = (sum(kind.histogram[i] for kind in kinds) for i in range(5))
    return (one, two, three, four, five)


def _kind_totals(kind: KindTotals) -> schemas.Totals:
    return _totals(kind.count, kind.rating_sum, kind.histogram, kind.targets)


def statistics(stats: Statistics, days: int) -> schemas.Stats:
    by_type = {kind.target_type: kind for kind in stats.kinds}
    kinds = [by_type.get(name, KindTotals(name, 0, 0, EMPTY_HISTOGRAM, 0)) for name in TARGET_TYPES]
    extension, layout = kinds  # TARGET_TYPES' order
    return {
        "totals": _totals(
            sum(kind.count for kind in kinds),
            sum(kind.rating_sum for kind in kinds),
            _combined(kinds),
            sum(kind.targets for kind in kinds),
        ),
        "by_type": {"extension": _kind_totals(extension), "layout": _kind_totals(layout)},
        "targets": [
            {
                "target_type": _kind(aggregate.target),
                "target_id": aggregate.target.id,
                "count": aggregate.count,
                "average": _average(aggregate.count, aggregate.rating_sum),
                "histogram": histogram(aggregate.histogram),
            }
            for aggregate in stats.targets
        ],
        "days": days,
        "daily": _daily(stats.daily),
    }


def target_statistics(stats: TargetStatistics, days: int) -> schemas.TargetStats:
    aggregate = stats.aggregate
    count = aggregate.count if aggregate else 0
    rating_sum = aggregate.rating_sum if aggregate else 0
    return {
        "target_type": _kind(stats.target),
        "target_id": stats.target.id,
        "count": count,
        "average": _average(count, rating_sum),
        "score": round(ranking.bayesian_average(count, rating_sum), 4),
        "trending": round(stats.trending, 6),
        "histogram": histogram(aggregate.histogram if aggregate else EMPTY_HISTOGRAM),
        "days": days,
        "daily": _daily(stats.daily),
    }


def admin_entry(entry: AdminEntry) -> schemas.AdminFeedback:
    row = entry.feedback
    return {
        "id": row.id,
        "target_type": _kind(row.target),
        "target_id": row.target.id,
        "rating": row.rating,
        "comment": entry.comment,
        "comment_unavailable": entry.comment_unavailable,
        "client_version": row.client_version,
        "locale": row.locale,
        "hidden": row.hidden,
        "client": row.client_hash.hex()[:16],
        "created_at": iso(row.created_at),
        "submitted_at": iso(row.submitted_at),
    }


def admin_page(entries: list[AdminEntry], next_cursor: int | None) -> schemas.AdminFeedbackPage:
    return {"items": [admin_entry(entry) for entry in entries], "next_cursor": next_cursor}
