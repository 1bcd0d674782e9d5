"""Page logic: filters from the query string, pagination links, safe redirects, notices."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from sora.admin import views
from sora.admin.models import CatalogItem, TargetRating


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_filters_become_the_feedback_api_parameters() -> None:
    query, errors = views.parse_feedback_query(
        {
            "kind": "extension",
            "target": "clipboard-history",
            "rating": "2",
            "from": "2024-05-01",
            "to": "2024-05-31",
            "hidden": "hidden",
            "comment": "with",
        }
    )
    assert errors == []
    assert query.api_filters() == {
        "target_type": "extension",
        "target_id": "clipboard-history",
        "rating": "2",
        "since": "2024-05-01",
        "until": "2024-06-01",  # the panel's last day is inclusive, the API's until is not
        "hidden": "true",
        "has_comment": "true",
    }


def test_no_filters_ask_for_everything() -> None:
    query, errors = views.parse_feedback_query({})
    assert (query.api_filters(), errors, query.filtered) == ({}, [], False)
    assert query.url() == "/admin/feedback"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kind": "theme"}, "Kind must be one of extension, layout"),
        ({"rating": "9"}, "Rating must be a whole number from 1 to 5"),
        ({"rating": "two"}, "Rating must be a whole number from 1 to 5"),
        ({"target": "<b>"}, "Target must be an id"),
        ({"from": "yesterday"}, "is not a date"),
        ({"from": "2024-06-02", "to": "2024-06-01"}, "must not come after"),
        ({"hidden": "maybe"}, "Visibility must be one of visible, hidden"),
    ],
)
def test_a_bad_filter_is_left_out_and_explained(params: dict[str, str], message: str) -> None:
    query, errors = views.parse_feedback_query(params)
    assert query.api_filters() == {}
    assert len(errors) == 1
    assert message in errors[0]


def test_only_offered_page_sizes_are_used() -> None:
    assert views.parse_feedback_query({"limit": "50"})[0].limit == 50
    assert views.parse_feedback_query({"limit": "7"})[0].limit == 25
    assert views.parse_feedback_query({"limit": "100000"})[0].limit == 25


def test_pages_go_forward_by_cursor_and_back_by_the_trail() -> None:
    first, _ = views.parse_feedback_query({"rating": "5"})
    second_url = first.next_url(80)
    assert second_url is not None
    assert query_of(second_url) == {"rating": ["5"], "cursor": ["80"], "trail": ["0"]}
    second, _ = views.parse_feedback_query(
        {key: values[-1] for key, values in query_of(second_url).items()}
    )
    assert second.page_number == 2
    third_url = second.next_url(55)
    assert third_url is not None
    assert query_of(third_url)["trail"] == ["0,80"]
    assert second.previous_url() == "/admin/feedback?rating=5"
    assert first.previous_url() is None
    assert first.next_url(None) is None


def test_export_links_carry_the_filters() -> None:
    query, _ = views.parse_feedback_query({"kind": "layout", "rating": "1"})
    assert query_of(query.export_url("jsonl")) == {
        "target_type": ["layout"],
        "rating": ["1"],
        "format": ["jsonl"],
    }


@pytest.mark.parametrize(
    ("wanted", "went"),
    [
        ("/admin/feedback?rating=1", "/admin/feedback?rating=1"),
        ("/admin", "/admin"),
        (None, "/admin"),
        ("https://evil.example/admin", "/admin"),
        ("//evil.example/admin", "/admin"),
        ("/\\evil.example", "/admin"),
        ("/administrator", "/admin"),
        ("/api/feedback", "/admin"),
        ("/admin/login", "/admin"),
        ("/admin\r\nSet-Cookie: x=1", "/admin"),
        ("javascript:alert(1)", "/admin"),
    ],
)
def test_redirects_stay_inside_the_panel(wanted: str | None, went: str) -> None:
    assert views.safe_next(wanted) == went


def test_notices_are_fixed_texts() -> None:
    assert views.notice({"notice": "hidden", "id": "12"}) == (
        "Feedback #12 is hidden: it no longer counts in ratings and statistics."
    )
    assert views.notice({"notice": "deleted", "id": "<b>"}) == "Feedback #? was deleted."
    assert views.notice({"notice": "<script>"}) is None


def test_moderation_returns_to_the_list_with_a_notice() -> None:
    assert views.with_notice("/admin/feedback?rating=1", "hidden", 7) == (
        "/admin/feedback?rating=1&notice=hidden&id=7"
    )
    assert views.with_notice("https://evil.example", "hidden", 7) == "/admin?notice=hidden&id=7"


def test_stats_query_falls_back_to_defaults() -> None:
    assert views.parse_stats_query({"days": "7", "kind": "layout"}) == views.StatsQuery(7, "layout")
    assert views.parse_stats_query({"days": "12", "kind": "x"}) == views.StatsQuery(30, "")


def test_catalog_rows_put_each_entry_beside_its_ratings() -> None:
    def item(kind: str, entry_id: str) -> CatalogItem:
        return CatalogItem(kind, entry_id, entry_id, "", "", (), "1.0.0", ("1.0.0",), 1, "", None)

    rating = TargetRating("extension", "a", 3, 4.0, (0, 0, 1, 1, 1))
    rows = views.catalog_rows(
        [item("extensions", "a"), item("extensions", "b"), item("layouts", "a")],
        {("extension", "a"): rating},
    )
    assert [row.rating for row in rows] == [rating, None, None]


def test_dates_parse_as_days() -> None:
    query, _ = views.parse_feedback_query({"from": "2024-02-29"})
    assert query.since == date(2024, 2, 29)
