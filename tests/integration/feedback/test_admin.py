"""Admin endpoints: bearer ADMIN_TOKEN, list with filters and pages, hide, delete, export."""

from __future__ import annotations

import csv
import io
import json

import pytest
import requests

from tests.integration.feedback.conftest import (
    ADMIN,
    ADMIN_TOKEN,
    new_target_id,
    post_feedback,
    rating,
)
from tests.support.processes import Service

ADMIN_REQUESTS = [
    ("GET", "/api/feedback"),
    ("GET", "/api/feedback/export"),
    ("POST", "/api/feedback/1/hide"),
    ("POST", "/api/feedback/1/unhide"),
    ("DELETE", "/api/feedback/1"),
]


def admin(method: str, api: Service, path: str, **params: str | int) -> requests.Response:
    return requests.request(method, f"{api.url}{path}", params=params, headers=ADMIN, timeout=10)


def count(api: Service, target_id: str) -> int:
    body = requests.get(f"{api.url}/api/stats/extension/{target_id}", timeout=10).json()
    return int(body["count"])


@pytest.mark.parametrize(("method", "path"), ADMIN_REQUESTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {ADMIN_TOKEN}", "Bearer", f"Bearer {ADMIN_TOKEN}x"],
)
def test_admin_endpoints_answer_401_json_without_the_token(
    api: Service, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.request(method, f"{api.url}{path}", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication required"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_list_shows_decrypted_comments_newest_first(api: Service) -> None:
    target = new_target_id()
    post_feedback(api.url, rating(target, 2, comment="First, mild"))
    post_feedback(
        api.url, rating(target, 5, comment="二つ目 — great", locale="ja", client_version="3.0")
    )
    response = admin("GET", api, "/api/feedback", target_id=target)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    items = response.json()["items"]
    assert [(i["rating"], i["comment"]) for i in items] == [
        (5, "二つ目 — great"),
        (2, "First, mild"),
    ]
    assert (items[0]["locale"], items[0]["client_version"], items[0]["hidden"]) == (
        "ja",
        "3.0",
        False,
    )
    assert len(items[0]["client"]) == 16
    assert response.json()["next_cursor"] is None


def test_the_list_pages_with_a_cursor(api: Service) -> None:
    target = new_target_id()
    sent = [post_feedback(api.url, rating(target, 3)).json()["id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {"target_id": target, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = admin("GET", api, "/api/feedback", **params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(sent, reverse=True)


def test_the_list_filters_by_rating_comment_and_visibility(api: Service) -> None:
    target = new_target_id()
    kept = post_feedback(api.url, rating(target, 5, comment="keep")).json()["id"]
    post_feedback(api.url, rating(target, 1))
    hidden = post_feedback(api.url, rating(target, 5)).json()["id"]
    admin("POST", api, f"/api/feedback/{hidden}/hide")

    def ids(**filters: str | int) -> list[int]:
        items = admin("GET", api, "/api/feedback", target_id=target, **filters).json()["items"]
        return [item["id"] for item in items]

    assert ids(rating=5, hidden="false") == [kept]
    assert ids(has_comment="true") == [kept]
    assert ids(hidden="true") == [hidden]
    assert ids(since="2000-01-01T00:00:00Z", until="2000-01-02") == []


def test_hiding_takes_an_entry_out_of_the_statistics_and_unhiding_restores_it(
    api: Service,
) -> None:
    target = new_target_id()
    entry = post_feedback(api.url, rating(target, 1)).json()["id"]
    post_feedback(api.url, rating(target, 5))
    hide = admin("POST", api, f"/api/feedback/{entry}/hide")
    assert hide.json() == {"id": entry, "hidden": True}
    assert count(api, target) == 1
    assert admin("POST", api, f"/api/feedback/{entry}/hide").status_code == 200  # idempotent
    assert count(api, target) == 1
    assert admin("POST", api, f"/api/feedback/{entry}/unhide").json()["hidden"] is False
    assert count(api, target) == 2


def test_deleting_removes_the_entry_and_its_rating(api: Service) -> None:
    target = new_target_id()
    entry = post_feedback(api.url, rating(target, 4)).json()["id"]
    response = admin("DELETE", api, f"/api/feedback/{entry}")
    assert response.status_code == 204
    assert count(api, target) == 0
    assert admin("DELETE", api, f"/api/feedback/{entry}").status_code == 404
    assert admin("GET", api, "/api/feedback", target_id=target).json()["items"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/api/feedback/999999999"), ("POST", "/api/feedback/999999999/hide"),
     ("POST", "/api/feedback/0/hide"), ("DELETE", "/api/feedback/abc")],
)  # fmt: skip
def test_unknown_entries_are_404(api: Service, method: str, path: str) -> None:
    response = admin(method, api, path)
    assert response.status_code == 404
    assert "error" in response.json()


def test_export_as_csv(api: Service) -> None:
    target = new_target_id()
    post_feedback(api.url, rating(target, 4, comment="=cmd|' /C calc'!A0, with a comma"))
    response = admin("GET", api, "/api/feedback/export", format="csv", target_id=target)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    assert rows[0]["comment"] == "'=cmd|' /C calc'!A0, with a comma"  # no formula for spreadsheets
    assert (rows[0]["target_id"], rows[0]["rating"]) == (target, "4")


def test_export_as_json_lines_streams_every_match(api: Service) -> None:
    target = new_target_id()
    for value in (1, 2, 3):
        post_feedback(api.url, rating(target, value, comment=f"comment {value}"))
    response = admin("GET", api, "/api/feedback/export", format="jsonl", target_id=target)
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [(line["rating"], line["comment"]) for line in lines] == [
        (3, "comment 3"),
        (2, "comment 2"),
        (1, "comment 1"),
    ]


def test_export_refuses_an_unknown_format(api: Service) -> None:
    response = admin("GET", api, "/api/feedback/export", format="xlsx")
    assert response.status_code == 400
    assert response.json()["field"] == "format"
