"""Pure page logic: query strings to filters, links, notices, joins. No HTTP, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Final
from urllib.parse import urlencode, urlsplit

from sora.admin.models import TARGET_TYPES, CatalogItem, TargetRating, target_type_of

FEEDBACK_PATH: Final = "/admin/feedback"
HOME: Final = "/admin"
PAGE_SIZES: Final = (25, 50, 100)
STATS_DAYS: Final = (7, 30, 90, 365)
MAX_TRAIL: Final = 50
TARGET_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
VISIBILITY: Final = ("", "visible", "hidden")
COMMENTS: Final = ("", "with", "without")

Params = Mapping[str, str | list[str]]

NOTICES: Final = {
    "hidden": "Feedback #{id} is hidden: it no longer counts in ratings and statistics.",
    "unhidden": "Feedback #{id} is visible again.",
    "deleted": "Feedback #{id} was deleted.",
    "missing": "Feedback #{id} no longer exists.",
    "signed_out": "You are signed out.",
    "expired": "Your session expired: sign in again.",
    "signed_in_required": "Sign in to continue.",
}


def notice(params: Params) -> str | None:
    """A fixed message chosen by ``?notice=`` (never text taken from the URL)."""
    code = _single(params, "notice")
    template = NOTICES.get(code or "")
    if template is None:
        return None
    number = _single(params, "id") or ""
    return template.format(id=number if number.isdigit() else "?")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this panel, never another site."""
    if not value or any(c in value for c in "\\\r\n\t") or value.startswith("//"):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    if parts.path != HOME and not parts.path.startswith(HOME + "/"):
        return HOME
    if parts.path in ("/admin/login", "/admin/logout"):
        return HOME
    return value


def with_notice(back: str, code: str, feedback_id: int) -> str:
    """``back`` (a panel path) with a notice about one feedback entry."""
    target = safe_next(back)
    separator = "&" if "?" in target else "?"
    return f"{target}{separator}{urlencode({'notice': code, 'id': feedback_id})}"


@dataclass(frozen=True)
class FeedbackQuery:
    """The feedback page's filters and position, as the panel's query string holds them."""

    kind: str = ""
    target: str = ""
    rating: int | None = None
    since: date | None = None
    until: date | None = None  # inclusive, unlike the API's ``until``
    visibility: str = ""
    comments: str = ""
    limit: int = PAGE_SIZES[0]
    cursor: int | None = None
    trail: tuple[int, ...] = field(default=())  # cursors of the earlier pages, 0 = first

    def api_filters(self) -> dict[str, str]:
        """The feedback API's filter parameters (``GET /api/feedback``, the export)."""
        filters: dict[str, str] = {}
        if self.kind:
            filters["target_type"] = self.kind
        if self.target:
            filters["target_id"] = self.target
        if self.rating:
            filters["rating"] = str(self.rating)
        if self.since:
            filters["since"] = self.since.isoformat()
        if self.until:
            filters["until"] = (self.until + timedelta(days=1)).isoformat()
        if self.visibility:
            filters["hidden"] = "true" if self.visibility == "hidden" else "false"
        if self.comments:
            filters["has_comment"] = "true" if self.comments == "with" else "false"
        return filters

    def _params(self) -> dict[str, str]:
        params = {
            "kind": self.kind,
            "target": self.target,
            "rating": str(self.rating or ""),
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            "hidden": self.visibility,
            "comment": self.comments,
            "limit": "" if self.limit == PAGE_SIZES[0] else str(self.limit),
            "cursor": str(self.cursor or ""),
            "trail": ",".join(str(cursor) for cursor in self.trail),
        }
        return {key: value for key, value in params.items() if value}

    def url(self) -> str:
        query = urlencode(self._params())
        return f"{FEEDBACK_PATH}?{query}" if query else FEEDBACK_PATH

    @property
    def filtered(self) -> bool:
        return bool(self.api_filters())

    @property
    def page_number(self) -> int:
        return len(self.trail) + 1

    def next_url(self, next_cursor: int | None) -> str | None:
        if next_cursor is None:
            return None
        trail = (*self.trail, self.cursor or 0)[-MAX_TRAIL:]
        return replace(self, cursor=next_cursor, trail=trail).url()

    def previous_url(self) -> str | None:
        if not self.trail:
            return None
        return replace(self, cursor=self.trail[-1] or None, trail=self.trail[:-1]).url()

    def first_url(self) -> str:
        return replace(self, cursor=None, trail=()).url()

    def export_url(self, fmt: str) -> str:
        return f"{FEEDBACK_PATH}/export?{urlencode({**self.api_filters(), 'format': fmt})}"


def parse_feedback_query(params: Params) -> tuple[FeedbackQuery, list[str]]:
    """Filters from the query string; a bad value is dropped and explained, never fatal."""
    errors: list[str] = []

    def choice(name: str, choices: Iterable[str], label: str) -> str:
        value = (_single(params, name) or "").strip()
        if value and value not in choices:
            errors.append(f"{label} must be one of {', '.join(c for c in choices if c)}")
            return ""
        return value

    kind = choice("kind", TARGET_TYPES, "Kind")
    target = (_single(params, "target") or "").strip()
    if target and not TARGET_ID.fullmatch(target):
        errors.append("Target must be an id such as clipboard-history (letters, digits, . _ -)")
        target = ""
    rating = _number(params, "rating", 1, 5)
    if rating is False:
        errors.append("Rating must be a whole number from 1 to 5")
    since, until = _day(params, "from", errors), _day(params, "to", errors)
    if since and until and since > until:
        errors.append("The first day must not come after the last day")
        since = until = None
    limit = _number(params, "limit", 1, max(PAGE_SIZES))
    cursor = _number(params, "cursor", 1, 2**63 - 1)
    query = FeedbackQuery(
        kind=kind,
        target=target,
        rating=rating or None,
        since=since,
        until=until,
        visibility=choice("hidden", VISIBILITY, "Visibility"),
        comments=choice("comment", COMMENTS, "Comment"),
        limit=limit if limit in PAGE_SIZES else PAGE_SIZES[0],
        cursor=cursor or None,
        trail=_trail(_single(params, "trail")) if cursor else (),
    )
    return query, errors


@dataclass(frozen=True)
class StatsQuery:
    days: int = 30
    kind: str = ""


def parse_stats_query(params: Params) -> StatsQuery:
    days = _number(params, "days", 1, 365)
    kind = _single(params, "kind") or ""
    return StatsQuery(
        days=days if days in STATS_DAYS else 30,
        kind=kind if kind in TARGET_TYPES else "",
    )


@dataclass(frozen=True)
class CatalogRow:
    """A catalog entry with its ratings beside it (None: nobody has rated it)."""

    item: CatalogItem
    rating: TargetRating | None


def catalog_rows(
    items: Iterable[CatalogItem], ratings: Mapping[tuple[str, str], TargetRating]
) -> list[CatalogRow]:
    return [CatalogRow(item, ratings.get((target_type_of(item.kind), item.id))) for item in items]


def _single(params: Params, name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, list):
        return value[-1] if value else None
    return value


def _number(params: Params, name: str, low: int, high: int) -> int | bool | None:
    """The value, None when absent, False when present but not a number in range."""
    value = (_single(params, name) or "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return False
    number = int(value)
    return number if low <= number <= high else False


def _day(params: Params, name: str, errors: list[str]) -> date | None:
    value = (_single(params, name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{value[:20]!r} is not a date such as 2024-05-31")
        return None


def _trail(value: str | None) -> tuple[int, ...]:
    cursors = []
    for part in (value or "").split(",")[-MAX_TRAIL:]:
        if part.isascii() and part.isdigit() and len(part) <= 19:
            cursors.append(int(part))
    return tuple(cursors)
