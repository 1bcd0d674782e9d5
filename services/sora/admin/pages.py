"""What each page shows: calls to the APIs, gathered into a template context.

A failed call never fails the page: it becomes a :class:`Problem` shown in
a banner, the rest of the page is still drawn, and the status code says what
happened (503 when an API is unavailable, the API's 4xx when it refused).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, TypeVar

from sora.admin import charts, telemetry, views
from sora.admin.clients import (
    FEEDBACK_API,
    CatalogClient,
    FeedbackClient,
    UpstreamError,
    UpstreamRejectedError,
)
from sora.admin.models import (
    CATALOG_KINDS,
    CatalogItem,
    Statistics,
    TargetRating,
    target_type_of,
)

T = TypeVar("T")
OVERVIEW_DAYS: Final = 14
TOP_TARGETS: Final = 10
RATINGS_PER_KIND: Final = 100
MAX_SINGLE_LOOKUPS: Final = 50


@dataclass(frozen=True)
class Clients:
    feedback: FeedbackClient
    catalog: CatalogClient


@dataclass(frozen=True)
class Problem:
    service: str
    message: str
    status: int


@dataclass
class Page:
    """A template, its context and the status to answer with."""

    template: str
    context: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)

    @property
    def status(self) -> int:
        if not self.problems:
            return 200
        return max(problem.status for problem in self.problems)

    def attempt(self, call: Callable[[], T]) -> T | None:
        """``call()``, or None with the failure recorded for the banner."""
        try:
            return call()
        except UpstreamError as error:
            problem = problem_of(error)
            if problem not in self.problems:
                self.problems.append(problem)
            return None


def problem_of(error: UpstreamError) -> Problem:
    """A failed call as the page shows it; 503 unavailable, 400/404 refused, else 502."""
    if isinstance(error, UpstreamRejectedError):
        status = error.status if error.status in (400, 404) else 502
    else:
        status = 503
    return Problem(error.service, error.message, status)


def overview(clients: Clients) -> Page:
    page = Page("overview.html", {})
    stats = page.attempt(lambda: clients.feedback.statistics(OVERVIEW_DAYS, limit=5))
    recent = page.attempt(lambda: clients.feedback.page({}, 5, None))
    counts = {
        kind: len(entries)
        for kind in CATALOG_KINDS
        if (entries := page.attempt(partial(clients.catalog.entries, kind))) is not None
    }
    page.context.update(
        stats=stats,
        charts=_charts(stats) if stats else None,
        recent=recent.items if recent else None,
        catalog_counts=counts if len(counts) == len(CATALOG_KINDS) else None,
        days=OVERVIEW_DAYS,
        services=[
            (clients.feedback.base_url, "Feedback API", stats is not None),
            (clients.catalog.base_url, "File server", len(counts) == len(CATALOG_KINDS)),
        ],
    )
    return page


def feedback(clients: Clients, query: views.FeedbackQuery, errors: list[str]) -> Page:
    page = Page("feedback.html", {"query": query, "errors": errors})
    result = page.attempt(
        lambda: clients.feedback.page(query.api_filters(), query.limit, query.cursor)
    )
    page.context.update(
        entries=result.items if result else None,
        next_url=query.next_url(result.next_cursor) if result else None,
        previous_url=query.previous_url(),
    )
    return page


def confirm_delete(clients: Clients, feedback_id: int, back: str) -> Page:
    page = Page("feedback_delete.html", {"feedback_id": feedback_id, "back": back})
    entry = page.attempt(lambda: clients.feedback.entry(feedback_id))
    if entry is None and not page.problems:
        page.problems.append(Problem(FEEDBACK_API, f"No feedback #{feedback_id}", 404))
    page.context["entry"] = entry
    return page


def moderate(clients: Clients, action: str, feedback_id: int) -> str:
    """Hide, unhide or delete; returns the notice code for the page we go back to."""
    calls = {
        "hide": (clients.feedback.hide, "hidden"),
        "unhide": (clients.feedback.unhide, "unhidden"),
        "delete": (clients.feedback.delete, "deleted"),
    }
    call, done = calls[action]
    try:
        call(feedback_id)
    except UpstreamRejectedError as error:
        if error.status == 404:
            return "missing"
        raise
    telemetry.MODERATION.labels(action).inc()
    return done


def statistics(clients: Clients, query: views.StatsQuery) -> Page:
    page = Page("stats.html", {"query": query, "day_choices": views.STATS_DAYS})
    stats = page.attempt(
        lambda: clients.feedback.statistics(query.days, query.kind or None, TOP_TARGETS)
    )
    page.context.update(stats=stats, charts=_charts(stats) if stats else None)
    return page


def _charts(stats: Statistics) -> dict[str, Any]:
    return {
        "histogram": charts.rating_histogram(stats.totals.histogram),
        "daily": charts.daily_volume(
            [charts.Day(day.date, day.count, day.average) for day in stats.daily]
        ),
        "targets": charts.top_targets(
            [
                charts.Target(f"{t.target_type} \u00b7 {t.target_id}", t.count, t.average)
                for t in stats.targets
            ]
        ),
    }


def catalog(clients: Clients) -> Page:
    page = Page("catalog.html", {})
    sections = {}
    for kind in CATALOG_KINDS:
        items = page.attempt(partial(clients.catalog.entries, kind))
        ratings = page.attempt(partial(_ratings, clients, kind, items or []))
        if items is not None:
            sections[kind] = views.catalog_rows(items, ratings or {})
    page.context.update(
        sections=sections,
        ratings_missing=any(problem.service == FEEDBACK_API for problem in page.problems),
    )
    return page


def _ratings(
    clients: Clients, kind: str, items: list[CatalogItem]
) -> dict[tuple[str, str], TargetRating]:
    """Ratings of one kind's entries: the busiest in one call, the rest one by one if needed."""
    target_type = target_type_of(kind)
    stats = clients.feedback.statistics(1, target_type, RATINGS_PER_KIND)
    found = {(t.target_type, t.target_id): t for t in stats.targets}
    if len(stats.targets) < RATINGS_PER_KIND:
        return found  # every rated target of this kind is in the list
    missing = [item for item in items if (target_type, item.id) not in found]
    for item in missing[:MAX_SINGLE_LOOKUPS]:
        rating = clients.feedback.target_statistics(target_type, item.id, 1).rating
        found[(target_type, item.id)] = rating
    return found


def catalog_entry(clients: Clients, kind: str, entry_id: str) -> Page:
    page = Page("catalog_entry.html", {"kind": kind, "entry_id": entry_id})
    latest = page.attempt(lambda: clients.catalog.version(kind, entry_id))
    versions = []
    if latest is not None:
        for version in latest.versions:
            manifest = page.attempt(partial(clients.catalog.version, kind, entry_id, version))
            if manifest is not None:
                versions.append(manifest)
    target = page.attempt(
        lambda: clients.feedback.target_statistics(target_type_of(kind), entry_id, 30)
    )
    page.context.update(
        latest=latest,
        versions=versions,
        target=target,
        charts={
            "histogram": charts.rating_histogram(target.rating.histogram),
            "daily": charts.daily_volume(
                [charts.Day(day.date, day.count, day.average) for day in target.daily]
            ),
        }
        if target
        else None,
    )
    return page
