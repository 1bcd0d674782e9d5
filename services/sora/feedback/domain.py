"""Use cases: what the API does, in terms of the store, the keyring and plain values.

Nothing here knows about HTTP; the resources parse requests, call one of these
functions and render the result (see ``views.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, replace

from sora.feedback import ranking
from sora.feedback.crypto import DecryptionError, Keyring, comment_context
from sora.feedback.model import (
    CommentRotation,
    FeedbackFilter,
    KindTotals,
    NewFeedback,
    StoredFeedback,
    Submission,
    SubmitResult,
    Target,
    TargetAggregate,
    last_days,
)
from sora.feedback.schemas import AdminListQuery, RecommendationsQuery, StatsQuery
from sora.feedback.store import FeedbackStore

log = logging.getLogger("sora.feedback")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class UnknownTargetError(Exception):
    """The target is not in the file server's catalog (never was, or was removed)."""

    def __init__(self, target: Target) -> None:
        super().__init__(f"no {target.type} {target.id!r} in the catalog")
        self.target = target


def require_listed(listed: frozenset[Target], target: Target) -> None:
    if target not in listed:
        raise UnknownTargetError(target)


# --- public -----------------------------------------------------------------------------------


def submit(
    store: FeedbackStore,
    keyring: Keyring,
    listed: frozenset[Target],
    submission: Submission,
    *,
    client_hash: str,
    at_ms: int,
) -> SubmitResult:
    """Store a rating for a catalogued target; the comment is sealed to this (target, client)
    before it leaves memory."""
    require_listed(listed, submission.target)
    client = bytes.fromhex(client_hash)
    sealed = (
        keyring.seal(submission.comment, comment_context(submission.target, client))
        if submission.comment
        else None
    )
    return store.submit(
        NewFeedback(
            target=submission.target,
            client_hash=client,
            rating=submission.rating,
            comment=sealed,
            client_version=submission.client_version,
            locale=submission.locale,
            submitted_at=at_ms,
        )
    )


@dataclass(frozen=True)
class Ranked:
    aggregate: TargetAggregate
    trending: float  # the decayed positive mass now (ranking.trending_now)


def recommendations(
    store: FeedbackStore, listed: frozenset[Target], query: RecommendationsQuery, at_ms: int
) -> list[Ranked]:
    return [
        Ranked(aggregate, ranking.trending_now(aggregate.trend_log2, at_ms))
        for aggregate in listed_only(
            lambda limit: store.ranked_targets(query.kind, query.order, limit), listed, query.limit
        )
    ]


def listed_only(
    fetch: Callable[[int], list[TargetAggregate]], listed: frozenset[Target], limit: int
) -> list[TargetAggregate]:
    """The first ``limit`` of a store listing whose targets the catalog has. Targets it no
    longer has are skipped, asking the store for twice as many while they crowd the page."""
    wanted = limit
    while True:
        rows = fetch(wanted)
        kept = [aggregate for aggregate in rows if aggregate.target in listed]
        if len(kept) >= limit or len(rows) < wanted:
            return kept[:limit]
        wanted *= 2


@dataclass(frozen=True)
class DailyCount:
    day: str
    count: int
    rating_sum: int


@dataclass(frozen=True)
class Statistics:
    kinds: list[KindTotals]
    targets: list[TargetAggregate]
    daily: list[DailyCount]


def removed_targets(store: FeedbackStore, listed: frozenset[Target]) -> list[Target]:
    """Targets with counted feedback that the catalog no longer has (reads every counted
    target: :class:`RemovedTargets` keeps the answer for a while)."""
    return [target for target in store.counted_targets() if target not in listed]


class RemovedTargets:
    """:func:`removed_targets`, kept for one catalog until it changes or ``max_age_seconds``
    pass: the set changes with the catalog, or when an admin shows again hidden feedback
    on a removed target (then public totals count it for at most ``max_age_seconds``)."""

    def __init__(self, max_age_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._max_age = max_age_seconds
        self._clock = clock
        self._cached: tuple[frozenset[Target], float, list[Target]] | None = None

    def __call__(self, store: FeedbackStore, listed: frozenset[Target]) -> list[Target]:
        now = self._clock()
        cached = self._cached  # one read: other threads may replace it meanwhile
        if cached is not None and cached[0] is listed and now - cached[1] <= self._max_age:
            return cached[2]
        removed = removed_targets(store, listed)
        self._cached = (listed, now, removed)
        return removed


class KeptBodies:
    """Rendered bodies under a key naming everything they were made from: the store's
    :meth:`~sora.feedback.store.FeedbackStore.data_version`, the query, the catalog and
    the time (the day, or the second where figures decay with the clock). A kept body
    is what a fresh read would give, at most that second ago, and no commit is ever
    missing from it. A ``None`` key keeps nothing; past ``size`` keys all are dropped,
    which a changing version makes routine."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._bodies: dict[Hashable, bytes] = {}

    def get(self, key: Hashable | None) -> bytes | None:
        return None if key is None else self._bodies.get(key)

    def keep(self, key: Hashable | None, body: bytes | None) -> None:
        if key is None or body is None:
            return
        if len(self._bodies) >= self._size:
            self._bodies = {}  # replaced, not cleared: other threads may be reading it
        self._bodies[key] = body


def statistics(
    store: FeedbackStore,
    listed: frozenset[Target],
    removed: Sequence[Target],
    query: StatsQuery,
    at_ms: int,
) -> Statistics:
    """Totals, busiest targets and daily counts over the catalogued targets only: what
    the store counted for the ``removed`` targets (see :func:`removed_targets`) is taken
    back out."""
    days = last_days(at_ms, query.days)
    daily = _daily(store, days, None)
    kinds = store.kind_totals()
    for target in removed:
        aggregate = store.target(target)
        if aggregate is not None:
            kinds = [_without(kind, aggregate) for kind in kinds]
        daily = _minus(daily, _daily(store, days, target))
    return Statistics(
        kinds=kinds,
        targets=listed_only(
            lambda limit: store.busiest_targets(query.kind, limit), listed, query.limit
        ),
        daily=daily,
    )


def _without(kind: KindTotals, aggregate: TargetAggregate) -> KindTotals:
    """A kind's totals without one target's visible feedback."""
    if kind.target_type != aggregate.target.type or aggregate.count == 0:
        return kind
    one, two, three, four, five = (
        total - part for total, part in zip(kind.histogram, aggregate.histogram, strict=True)
    )
    return replace(
        kind,
        count=kind.count - aggregate.count,
        rating_sum=kind.rating_sum - aggregate.rating_sum,
        histogram=(one, two, three, four, five),
        targets=kind.targets - 1,
    )


def _minus(days: list[DailyCount], part: list[DailyCount]) -> list[DailyCount]:
    """Day by day (both lists cover the same window), ``days`` less ``part``."""
    return [
        DailyCount(day.day, day.count - taken.count, day.rating_sum - taken.rating_sum)
        for day, taken in zip(days, part, strict=True)
    ]


@dataclass(frozen=True)
class TargetStatistics:
    target: Target
    aggregate: TargetAggregate | None
    trending: float
    daily: list[DailyCount]


def target_statistics(
    store: FeedbackStore, listed: frozenset[Target], target: Target, days: int, at_ms: int
) -> TargetStatistics:
    """A catalogued target nobody has rated yet has zero counts; any other is unknown."""
    require_listed(listed, target)
    aggregate = store.target(target)
    return TargetStatistics(
        target=target,
        aggregate=aggregate,
        trending=ranking.trending_now(aggregate.trend_log2 if aggregate else None, at_ms),
        daily=_daily(store, last_days(at_ms, days), target),
    )


def _daily(store: FeedbackStore, days: list[str], target: Target | None) -> list[DailyCount]:
    """Every day of the window, zero where nothing was submitted."""
    found = {day.day: day for day in store.daily_counts(days[0], target)}
    return [
        DailyCount(day, found[day].count, found[day].rating_sum)
        if day in found
        else DailyCount(day, 0, 0)
        for day in days
    ]


# --- admin ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminEntry:
    feedback: StoredFeedback
    comment: str | None
    comment_unavailable: bool  # a comment exists but no configured key opens it


def admin_page(
    store: FeedbackStore, keyring: Keyring, query: AdminListQuery
) -> tuple[list[AdminEntry], int | None]:
    """One page, newest first, and the cursor for the next page (None on the last)."""
    rows = store.list_feedback(query.filters, query.limit + 1, query.cursor)
    page = rows[: query.limit]
    cursor = page[-1].id if len(rows) > query.limit else None
    return [reveal(keyring, row) for row in page], cursor


def export_entries(
    store: FeedbackStore, keyring: Keyring, filters: FeedbackFilter, batch: int = 500
) -> Iterator[AdminEntry]:
    """Every matching entry, newest first, read in short batches."""
    cursor: int | None = None
    while True:
        rows = store.list_feedback(filters, batch, cursor)
        for row in rows:
            yield reveal(keyring, row)
        if len(rows) < batch:
            return
        cursor = rows[-1].id


def reveal(keyring: Keyring, row: StoredFeedback) -> AdminEntry:
    if row.comment is None:
        return AdminEntry(row, None, comment_unavailable=False)
    try:
        text = keyring.open(row.comment, comment_context(row.target, row.client_hash))
    except DecryptionError as error:
        log.warning("comment of feedback %s cannot be decrypted: %s", row.id, error)
        return AdminEntry(row, None, comment_unavailable=True)
    return AdminEntry(row, text, comment_unavailable=False)


# --- key rotation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationReport:
    examined: int
    rotated: int
    failed: list[int]  # ids whose comment no configured key opens


def reencrypt(store: FeedbackStore, keyring: Keyring, batch: int = 500) -> RotationReport:
    """Re-seal every comment that is not under the current key, in short transactions."""
    examined, rotated, failed, after = 0, 0, [], 0
    while rows := store.comments_to_rotate(keyring.current_id, after, batch):
        rotations = []
        for row in rows:
            rotation = _rotation(keyring, row)
            if rotation is None:
                failed.append(row.id)
            else:
                rotations.append(rotation)
        rotated += store.rotate_comments(rotations) if rotations else 0
        examined += len(rows)
        after = rows[-1].id
    return RotationReport(examined, rotated, failed)


def _rotation(keyring: Keyring, row: StoredFeedback) -> CommentRotation | None:
    if row.comment is None:
        return None
    try:
        resealed = keyring.reseal(row.comment, comment_context(row.target, row.client_hash))
    except DecryptionError:
        return None
    return CommentRotation(row.id, row.comment, resealed)
