"""Statistics over the catalogued targets only, in-process on real SQLite files: leaving a
target out of the catalog gives the figures of a store that never had its feedback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sora.feedback import domain
from sora.feedback.model import NewFeedback, Target, TargetType
from sora.feedback.schemas import RecommendationsQuery, StatsQuery
from sora.feedback.sqlite import SQLiteStore, prepare_database

DAY_MS = 86_400_000
NOW = 1_795_000_000_000
KEPT = (Target("extension", "kept"), Target("layout", "grid"), Target("layout", "stack"))
REMOVED = (Target("extension", "gone"), Target("layout", "old-grid"))
# target -> (rating, days ago), one client each
FEEDBACK = {
    KEPT[0]: [(4, 0), (5, 2), (2, 9)],
    KEPT[1]: [(3, 0), (3, 1)],
    KEPT[2]: [(1, 5)],
    REMOVED[0]: [(5, 0), (5, 0), (5, 1), (4, 2)],
    REMOVED[1]: [(5, 2), (1, 9)],
}


def filled_store(path: Path, targets: tuple[Target, ...]) -> SQLiteStore:
    prepare_database(path)
    store = SQLiteStore(path)
    client = 0
    for target in targets:
        for value, days_ago in FEEDBACK[target]:
            client += 1
            at_ms = NOW - days_ago * DAY_MS
            store.submit(
                NewFeedback(target, client.to_bytes(32, "big"), value, None, None, None, at_ms)
            )
    return store


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[SQLiteStore, SQLiteStore]]:
    """One store with feedback on removed targets too, one that never had any."""
    everything = filled_store(tmp_path / "all.db", (*KEPT, *REMOVED))
    catalogued = filled_store(tmp_path / "kept.db", KEPT)
    yield everything, catalogued
    everything.close()
    catalogued.close()


@pytest.mark.parametrize("kind", [None, "extension", "layout"])
def test_statistics_leave_out_exactly_what_removed_targets_added(
    stores: tuple[SQLiteStore, SQLiteStore], kind: TargetType | None
) -> None:
    everything, catalogued = stores
    query = StatsQuery(kind=kind, limit=10, days=14)
    listed = frozenset(KEPT)
    removed = domain.removed_targets(everything, listed)
    assert set(removed) == set(REMOVED)
    assert domain.statistics(everything, listed, removed, query, NOW) == domain.statistics(
        catalogued, listed, [], query, NOW
    )


@pytest.mark.parametrize("order", ["score", "trending"])
def test_recommendations_fill_the_page_past_removed_targets(
    stores: tuple[SQLiteStore, SQLiteStore], order: str
) -> None:
    everything, catalogued = stores
    query = RecommendationsQuery(None, "trending" if order == "trending" else "score", 2)
    ranked = domain.recommendations(everything, frozenset(KEPT), query, NOW)
    assert len(ranked) == 2
    assert ranked == domain.recommendations(catalogued, frozenset(KEPT), query, NOW)


def test_the_store_still_holds_the_feedback_of_removed_targets(
    stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    everything, _ = stores
    assert set(everything.counted_targets()) == {*KEPT, *REMOVED}
    with pytest.raises(domain.UnknownTargetError):
        domain.target_statistics(everything, frozenset(KEPT), REMOVED[0], 30, NOW)
