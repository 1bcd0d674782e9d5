"""Reading the APIs' JSON: the fields the panel uses, strictly; anything else ignored."""

from __future__ import annotations

from typing import Any

import pytest

from sora.admin import models
from sora.admin.models import MalformedAnswerError
from sora.admin.render import moment, size, stars

ENTRY: dict[str, Any] = {
    "id": 7,
    "target_type": "extension",
    "target_id": "word-count",
    "rating": 4,
    "comment": "<b>ok</b>",
    "comment_unavailable": False,
    "client_version": "1.2.0",
    "locale": "ja-JP",
    "hidden": False,
    "client": "0123456789abcdef",
    "created_at": "2024-05-01T09:00:00.000Z",
    "submitted_at": "2024-05-01T09:00:00.000Z",
    "some_future_field": [1, 2, 3],
}
HISTOGRAM = {"1": 0, "2": 1, "3": 0, "4": 2, "5": 3}
TOTALS = {"count": 6, "average": 4.1667, "histogram": HISTOGRAM, "targets": 2}


def test_a_feedback_page_is_read() -> None:
    page = models.feedback_page({"items": [ENTRY], "next_cursor": None})
    assert page.next_cursor is None
    assert page.items[0].comment == "<b>ok</b>"
    assert page.items[0].rating == 4


def test_statistics_are_read() -> None:
    stats = models.statistics(
        {
            "totals": TOTALS,
            "by_type": {"extension": TOTALS, "layout": {**TOTALS, "average": None}},
            "targets": [
                {
                    "target_type": "layout",
                    "target_id": "dvorak",
                    "count": 6,
                    "average": 4.1667,
                    "histogram": HISTOGRAM,
                }
            ],
            "days": 2,
            "daily": [
                {"date": "2024-05-01", "count": 0, "average": None},
                {"date": "2024-05-02", "count": 6, "average": 4.1667},
            ],
        }
    )
    assert stats.totals.histogram == (0, 1, 0, 2, 3)
    assert stats.by_type["layout"].average is None
    assert stats.targets[0].target_id == "dvorak"
    assert [day.count for day in stats.daily] == [0, 6]


@pytest.mark.parametrize(
    "broken",
    [
        {**ENTRY, "id": "7"},
        {**ENTRY, "hidden": "no"},
        {**ENTRY, "rating": True},
        {key: value for key, value in ENTRY.items() if key != "target_id"},
    ],
)
def test_a_malformed_entry_is_reported(broken: dict[str, Any]) -> None:
    with pytest.raises(MalformedAnswerError):
        models.feedback_page({"items": [broken], "next_cursor": None})


def test_a_histogram_needs_all_five_stars() -> None:
    target = {"target_type": "layout", "target_id": "dvorak", "count": 1, "average": 1.0}
    with pytest.raises(MalformedAnswerError, match="stars 1 to 5"):
        models.target_rating({**target, "histogram": {"1": 1}})


def test_a_catalog_page_is_read() -> None:
    page = models.catalog_page(
        {
            "items": [
                {
                    "kind": "layouts",
                    "id": "dvorak",
                    "version": "1.0.1",
                    "name": "Dvorak",
                    "description": "",
                    "author": "Sora Team",
                    "tags": ["english"],
                    "file": "package.zip",
                    "size": 8600,
                    "sha256": "0" * 64,
                    "published_at": None,
                    "versions": ["1.0.1", "1.0.0"],
                }
            ],
            "total": 1,
            "limit": 100,
            "offset": 0,
            "next_offset": None,
        },
        "layouts",
    )
    assert page.items[0].versions == ("1.0.1", "1.0.0")
    assert models.target_type_of(page.items[0].kind) == "layout"


def test_an_error_body_gives_its_message_and_field() -> None:
    assert models.error_message({"error": "bad", "field": "rating"}) == ("bad", "rating")
    assert models.error_message(["not", "an", "object"]) == (None, None)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(512, "512 B"), (12_600, "12.3 KiB"), (5 * 1024**3, "5.0 GiB")],
)
def test_sizes_read_as_people_write_them(value: int, shown: str) -> None:
    assert size(value) == shown


def test_times_are_shown_in_utc() -> None:
    assert moment("2024-05-01T09:00:00.000Z") == "2024-05-01 09:00 UTC"
    assert moment("2024-05-01T09:00:00+09:00") == "2024-05-01 09:00 +0900"
    assert moment(None) == "\u2014"
    assert moment("yesterday") == "yesterday"


def test_stars() -> None:
    assert stars(3) == "\u2605\u2605\u2605\u2606\u2606"
