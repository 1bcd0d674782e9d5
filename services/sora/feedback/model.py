"""Plain values passed between the layers; none of them knows about HTTP or SQL."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, get_args

TargetType = Literal["extension", "layout"]
Order = Literal["score", "trending"]
TARGET_TYPES: Final[tuple[TargetType, ...]] = get_args(TargetType)
RATINGS: Final = (1, 2, 3, 4, 5)
Histogram = tuple[int, int, int, int, int]
EMPTY_HISTOGRAM: Final[Histogram] = (0, 0, 0, 0, 0)


@dataclass(frozen=True)
class Target:
    """What a feedback is about: an extension or a layout, by its catalogue id."""

    type: str
    id: str


@dataclass(frozen=True)
class Submission:
    """A validated ``POST /api/feedback`` body."""

    target: Target
    rating: int
    comment: str | None
    client_version: str | None
    locale: str | None


@dataclass(frozen=True)
class SealedComment:
    """A comment encrypted under the key named by ``key_id``."""

    key_id: str
    ciphertext: bytes


@dataclass(frozen=True)
class NewFeedback:
    """One row as the store writes it: the client is a salted hash, the comment sealed."""

    target: Target
    client_hash: bytes
    rating: int
    comment: SealedComment | None
    client_version: str | None
    locale: str | None
    submitted_at: int  # Unix milliseconds


@dataclass(frozen=True)
class SubmitResult:
    id: int
    replaced: bool


@dataclass(frozen=True)
class StoredFeedback:
    id: int
    target: Target
    client_hash: bytes
    rating: int
    comment: SealedComment | None
    client_version: str | None
    locale: str | None
    hidden: bool
    created_at: int
    submitted_at: int


@dataclass(frozen=True)
class TargetAggregate:
    """Running totals of a target's visible feedback, kept by the store on every write."""

    target: Target
    count: int
    rating_sum: int
    histogram: Histogram
    score: float
    trend_log2: float | None


@dataclass(frozen=True)
class KindTotals:
    target_type: str
    count: int
    rating_sum: int
    histogram: Histogram
    targets: int


@dataclass(frozen=True)
class DayCount:
    day: str  # YYYY-MM-DD, UTC
    count: int
    rating_sum: int


@dataclass(frozen=True)
class FeedbackFilter:
    """Admin list and export filters; ``None`` means "any"."""

    target_type: str | None = None
    target_id: str | None = None
    rating: int | None = None
    hidden: bool | None = None
    has_comment: bool | None = None
    locale: str | None = None
    since: int | None = None  # submitted_at >= since (Unix ms)
    until: int | None = None  # submitted_at < until (Unix ms)


@dataclass(frozen=True)
class CommentRotation:
    """A comment re-sealed under the current key, applied only if the row still holds ``old``."""

    feedback_id: int
    old: SealedComment
    new: SealedComment


def utc_day(at_ms: int) -> str:
    """The UTC day of a timestamp, as SQLite's ``date(at_ms / 1000, 'unixepoch')`` has it."""
    return time.strftime("%Y-%m-%d", time.gmtime(at_ms // 1000))


def last_days(today_ms: int, days: int) -> list[str]:
    """The ``days`` UTC days ending with today's, oldest first."""
    today = datetime.fromtimestamp(today_ms // 1000, UTC).date()
    return [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]
