"""Public listings skip targets the catalog does not have, and still fill the page."""

from __future__ import annotations

from sora.feedback import domain
from sora.feedback.model import EMPTY_HISTOGRAM, Target, TargetAggregate


def aggregate(target_id: str) -> TargetAggregate:
    return TargetAggregate(Target("extension", target_id), 1, 5, EMPTY_HISTOGRAM, 3.3, None)


class Listing:
    """A store listing in rank order that records the limits it was asked for."""

    def __init__(self, ids: list[str]) -> None:
        self.rows = [aggregate(target_id) for target_id in ids]
        self.limits: list[int] = []

    def __call__(self, limit: int) -> list[TargetAggregate]:
        self.limits.append(limit)
        return self.rows[:limit]


def listed(*ids: str) -> frozenset[Target]:
    return frozenset(Target("extension", target_id) for target_id in ids)


def ids(rows: list[TargetAggregate]) -> list[str]:
    return [row.target.id for row in rows]


def test_one_query_when_nothing_is_missing_from_the_catalog() -> None:
    listing = Listing(["a", "b", "c", "d"])
    assert ids(domain.listed_only(listing, listed("a", "b", "c", "d"), 2)) == ["a", "b"]
    assert listing.limits == [2]


def test_removed_targets_are_skipped_and_the_page_still_filled_in_order() -> None:
    listing = Listing(["gone-1", "a", "gone-2", "gone-3", "b", "c", "d"])
    assert ids(domain.listed_only(listing, listed("a", "b", "c", "d"), 3)) == ["a", "b", "c"]
    assert listing.limits == [3, 6]


def test_a_short_listing_ends_the_search() -> None:
    listing = Listing(["gone", "a"])
    assert ids(domain.listed_only(listing, listed("a", "b"), 5)) == ["a"]
    assert listing.limits == [5]


def test_nothing_listed_gives_an_empty_page() -> None:
    assert domain.listed_only(Listing(["gone"]), frozenset(), 10) == []


class CountedTargets:
    """The one store read RemovedTargets makes, counted."""

    def __init__(self, *ids: str) -> None:
        self.targets = [Target("extension", target_id) for target_id in ids]
        self.reads = 0

    def counted_targets(self) -> list[Target]:
        self.reads += 1
        return list(self.targets)


def test_removed_targets_are_read_once_per_catalog_while_fresh() -> None:
    now = [0.0]
    removed = domain.RemovedTargets(30, clock=lambda: now[0])
    store = CountedTargets("a", "gone")
    catalog = listed("a")
    assert removed(store, catalog) == [Target("extension", "gone")]  # type: ignore[arg-type]
    assert removed(store, catalog) == [Target("extension", "gone")]  # type: ignore[arg-type]
    assert store.reads == 1
    assert removed(store, listed("a", "gone")) == []  # type: ignore[arg-type]  # a new catalog
    now[0] = 31
    store.targets.append(Target("extension", "shown-again"))
    assert removed(store, listed("a", "gone")) == [Target("extension", "shown-again")]  # type: ignore[arg-type]
    assert store.reads == 3
