"""What the panel reads from the two APIs, as typed values, and the parsing of their JSON.

The shapes are the ones the feedback API (``sora.feedback.views``) and the
file server (``sora.fileserver.resources``) answer. Parsing is strict about
the fields the panel uses and ignores the rest, so either API may add fields.
A missing or mistyped field raises :class:`MalformedAnswerError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

Histogram = tuple[int, int, int, int, int]
STARS: Final = ("1", "2", "3", "4", "5")
TARGET_TYPES: Final = ("extension", "layout")
CATALOG_KINDS: Final = ("extensions", "layouts")


class MalformedAnswerError(ValueError):
    """An API answered with JSON the panel does not understand."""


def target_type_of(kind: str) -> str:
    """The feedback API names catalog kinds in the singular: ``extensions`` → ``extension``."""
    return kind.removesuffix("s")


@dataclass(frozen=True)
class FeedbackEntry:
    id: int
    target_type: str
    target_id: str
    rating: int
    comment: str | None
    comment_unavailable: bool
    client_version: str | None
    locale: str | None
    hidden: bool
    client: str
    created_at: str
    submitted_at: str


@dataclass(frozen=True)
class FeedbackPage:
    items: tuple[FeedbackEntry, ...]
    next_cursor: int | None


@dataclass(frozen=True)
class Totals:
    count: int
    average: float | None
    histogram: Histogram
    targets: int


@dataclass(frozen=True)
class TargetRating:
    target_type: str
    target_id: str
    count: int
    average: float | None
    histogram: Histogram


@dataclass(frozen=True)
class DailyCount:
    date: str
    count: int
    average: float | None


@dataclass(frozen=True)
class Statistics:
    totals: Totals
    by_type: dict[str, Totals]
    targets: tuple[TargetRating, ...]
    days: int
    daily: tuple[DailyCount, ...]


@dataclass(frozen=True)
class TargetStatistics:
    rating: TargetRating
    daily: tuple[DailyCount, ...]


@dataclass(frozen=True)
class CatalogItem:
    """One version of an extension or layout (the latest one in catalog listings)."""

    kind: str
    id: str
    name: str
    description: str
    author: str
    tags: tuple[str, ...]
    version: str
    versions: tuple[str, ...]
    size: int
    sha256: str
    published_at: str | None


@dataclass(frozen=True)
class CatalogPage:
    items: tuple[CatalogItem, ...]
    total: int
    next_offset: int | None


# --- parsing ----------------------------------------------------------------------------------


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedAnswerError(f"{what} is not a JSON object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedAnswerError(f"{what} is not a JSON array")
    return value


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedAnswerError(f"{key} is not a whole number")
    return value


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    return None if data.get(key) is None else _int(data, key)


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise MalformedAnswerError(f"{key} is not a number")
    return float(value)


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise MalformedAnswerError(f"{key} is not a string")
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _str(data, key)


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise MalformedAnswerError(f"{key} is not true or false")
    return value


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = _list(data.get(key), key)
    if not all(isinstance(value, str) for value in values):
        raise MalformedAnswerError(f"{key} holds something other than strings")
    return tuple(values)


def _histogram(value: Any) -> Histogram:
    counts = _object(value, "histogram")
    if any(star not in counts for star in STARS):
        raise MalformedAnswerError("a histogram needs counts for stars 1 to 5")
    one, two, three, four, five = (_int(counts, star) for star in STARS)
    return (one, two, three, four, five)


def feedback_entry(value: Any) -> FeedbackEntry:
    data = _object(value, "feedback entry")
    return FeedbackEntry(
        id=_int(data, "id"),
        target_type=_str(data, "target_type"),
        target_id=_str(data, "target_id"),
        rating=_int(data, "rating"),
        comment=_optional_str(data, "comment"),
        comment_unavailable=bool(data.get("comment_unavailable", False)),
        client_version=_optional_str(data, "client_version"),
        locale=_optional_str(data, "locale"),
        hidden=_bool(data, "hidden"),
        client=_optional_str(data, "client") or "",
        created_at=_str(data, "created_at"),
        submitted_at=_str(data, "submitted_at"),
    )


def feedback_page(value: Any) -> FeedbackPage:
    data = _object(value, "feedback list")
    return FeedbackPage(
        items=tuple(feedback_entry(item) for item in _list(data.get("items"), "items")),
        next_cursor=_optional_int(data, "next_cursor"),
    )


def _totals(value: Any) -> Totals:
    data = _object(value, "totals")
    return Totals(
        count=_int(data, "count"),
        average=_number(data, "average"),
        histogram=_histogram(data.get("histogram")),
        targets=_int(data, "targets"),
    )


def target_rating(value: Any) -> TargetRating:
    data = _object(value, "target")
    return TargetRating(
        target_type=_str(data, "target_type"),
        target_id=_str(data, "target_id"),
        count=_int(data, "count"),
        average=_number(data, "average"),
        histogram=_histogram(data.get("histogram")),
    )


def _daily(value: Any) -> tuple[DailyCount, ...]:
    return tuple(
        DailyCount(_str(day, "date"), _int(day, "count"), _number(day, "average"))
        for day in (_object(item, "day") for item in _list(value, "daily"))
    )


def statistics(value: Any) -> Statistics:
    data = _object(value, "statistics")
    by_type = _object(data.get("by_type"), "by_type")
    return Statistics(
        totals=_totals(data.get("totals")),
        by_type={str(kind): _totals(totals) for kind, totals in by_type.items()},
        targets=tuple(target_rating(item) for item in _list(data.get("targets"), "targets")),
        days=_int(data, "days"),
        daily=_daily(data.get("daily")),
    )


def target_statistics(value: Any) -> TargetStatistics:
    data = _object(value, "target statistics")
    return TargetStatistics(rating=target_rating(data), daily=_daily(data.get("daily")))


def catalog_item(value: Any, kind: str) -> CatalogItem:
    data = _object(value, "catalog entry")
    return CatalogItem(
        kind=kind,
        id=_str(data, "id"),
        name=_str(data, "name"),
        description=_optional_str(data, "description") or "",
        author=_optional_str(data, "author") or "",
        tags=_strings(data, "tags"),
        version=_str(data, "version"),
        versions=_strings(data, "versions"),
        size=_int(data, "size"),
        sha256=_optional_str(data, "sha256") or "",
        published_at=_optional_str(data, "published_at"),
    )


def catalog_page(value: Any, kind: str) -> CatalogPage:
    data = _object(value, "catalog")
    return CatalogPage(
        items=tuple(catalog_item(item, kind) for item in _list(data.get("items"), "items")),
        total=_int(data, "total"),
        next_offset=_optional_int(data, "next_offset"),
    )


def error_message(value: Any) -> tuple[str | None, str | None]:
    """The ``error`` and ``field`` of an API error body, when it has them."""
    if not isinstance(value, dict):
        return None, None
    message, field = value.get("error"), value.get("field")
    return (
        message if isinstance(message, str) else None,
        field if isinstance(field, str) else None,
    )
