"""The storage interface the domain depends on.

Kept narrow on purpose: each method is one short transaction, so the planned
PostgreSQL backend can implement it without touching the domain or the HTTP
layer. Writes keep the per-target, per-kind and per-day aggregates in the same
transaction as the row they change; reads never write.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Protocol

from sora.feedback.model import (
    CommentRotation,
    DayCount,
    FeedbackFilter,
    KindTotals,
    NewFeedback,
    Order,
    StoredFeedback,
    SubmitResult,
    Target,
    TargetAggregate,
)


class StorageUnavailableError(Exception):
    """The database cannot serve the request right now (locked too long, disk error)."""


class FeedbackStore(Protocol):
    # --- writes (each one transaction; aggregates adjusted in it) ---
    def submit(self, entry: NewFeedback) -> SubmitResult:
        """Store ``entry``; a newer rating by the same client for the same target replaces
        the older one in place (same id) and the aggregates move accordingly."""
        ...

    def set_hidden(self, feedback_id: int, hidden: bool) -> bool:
        """Hide (or show again) one entry; hidden entries leave the public aggregates.
        False when there is no such entry."""
        ...

    def delete(self, feedback_id: int) -> bool: ...

    def rotate_comments(self, rotations: Sequence[CommentRotation]) -> int:
        """Apply re-encrypted comments whose row still holds the old ciphertext."""
        ...

    def import_feedback(self, entries: Iterable[NewFeedback]) -> int:
        """Bulk-load rows in one transaction (no duplicates allowed), then recount."""
        ...

    def recount(self) -> None:
        """Rebuild every aggregate from the feedback rows."""
        ...

    def check_writable(self) -> None:
        """Raise :class:`StorageUnavailableError` unless a write transaction commits."""
        ...

    # --- reads (aggregates only, never the feedback rows) ---
    def ranked_targets(
        self, kind: str | None, order: Order, limit: int
    ) -> list[TargetAggregate]: ...

    def busiest_targets(self, kind: str | None, limit: int) -> list[TargetAggregate]: ...

    def target(self, target: Target) -> TargetAggregate | None: ...

    def counted_targets(self) -> list[Target]:
        """Every target with visible feedback (to tell catalogued ones from removed ones)."""
        ...

    def kind_totals(self) -> list[KindTotals]: ...

    def data_version(self) -> Hashable | None:
        """A token that changes whenever any connection commits, read before the reads it
        vouches for; ``None`` where the engine cannot tell (then nothing is kept)."""
        ...

    def daily_counts(self, first_day: str, target: Target | None = None) -> list[DayCount]:
        """Days on or after ``first_day`` (YYYY-MM-DD) with feedback, oldest first."""
        ...

    # --- admin reads over the rows ---
    def list_feedback(
        self, filters: FeedbackFilter, limit: int, before_id: int | None = None
    ) -> list[StoredFeedback]:
        """Newest first; pass the last id seen as ``before_id`` for the next page."""
        ...

    def comments_to_rotate(
        self, current_key_id: str, after_id: int, limit: int
    ) -> list[StoredFeedback]:
        """Rows with a comment under another key than ``current_key_id``, by ascending id."""
        ...

    def close(self) -> None: ...
