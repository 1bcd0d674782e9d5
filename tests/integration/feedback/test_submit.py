"""POST /api/feedback: the whole contract, including every error status."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from sora.feedback.model import NewFeedback, Target
from sora.feedback.sqlite import SQLiteStore
from tests.integration.feedback.conftest import (
    ADMIN,
    Database,
    new_address,
    new_target_id,
    post_feedback,
    rating,
)
from tests.support.processes import Service


def target_stats(api: Service, target_id: str) -> dict[str, object]:
    response = requests.get(f"{api.url}/api/stats/extension/{target_id}", timeout=10)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_feedback_is_stored_and_answered_201_with_its_id(api: Service) -> None:
    target = new_target_id()
    response = post_feedback(
        api.url, rating(target, 4, comment="Nice", client_version="2.1.0", locale="ja-JP")
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["replaced"] is False
    assert isinstance(body["id"], int)
    assert body["id"] >= 1
    assert target_stats(api, target)["count"] == 1


def test_a_newer_rating_from_the_same_client_replaces_the_older(api: Service) -> None:
    target, address = new_target_id(), new_address()
    first = post_feedback(api.url, rating(target, 1, comment="meh"), address).json()
    second = post_feedback(api.url, rating(target, 5), address).json()
    assert second == {"id": first["id"], "replaced": True}
    stats = target_stats(api, target)
    assert (stats["count"], stats["average"]) == (1, 5.0)
    assert stats["histogram"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}


def test_different_clients_each_count_once(api: Service) -> None:
    target = new_target_id()
    ids = {post_feedback(api.url, rating(target, 4)).json()["id"] for _ in range(3)}
    assert len(ids) == 3
    assert target_stats(api, target)["count"] == 3


def test_a_client_is_its_address_only_when_the_proxy_is_trusted(api: Service) -> None:
    """X-Forwarded-For from 127.0.0.1 (trusted) tells clients apart; the same address is one."""
    target, address = new_target_id(), new_address()
    first = post_feedback(api.url, rating(target, 2), address).json()
    again = post_feedback(api.url, rating(target, 3), f"{address}, 127.0.0.1").json()
    assert again == {"id": first["id"], "replaced": True}


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"target_id": "x", "rating": 3}, "target_type", "required"),
        ({"target_type": "theme", "target_id": "x", "rating": 3}, "target_type", "enum"),
        ({"target_type": "layout", "target_id": "../etc", "rating": 3}, "target_id", "pattern"),
        ({"target_type": "layout", "target_id": "x", "rating": 6}, "rating", "range"),
        ({"target_type": "layout", "target_id": "x", "rating": "5"}, "rating", "type"),
        ({"target_type": "layout", "target_id": "x", "rating": 5, "comment": 1}, "comment", "type"),
        (
            {"target_type": "layout", "target_id": "x", "rating": 5, "comment": "x" * 4001},
            "comment",
            "max_length",
        ),
        (
            {"target_type": "layout", "target_id": "x", "rating": 5, "locale": "!"},
            "locale",
            "pattern",
        ),
    ],
)
def test_invalid_fields_are_400_naming_the_field_and_rule(
    api: Service, body: dict[str, object], field: str, rule: str
) -> None:
    response = post_feedback(api.url, body)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["rule"] == rule
    assert field in response.json()["error"]


@pytest.mark.parametrize(
    ("data", "rule"),
    [(b"{not json", "json"), (b"[1, 2]", "object"), (b"", "required"), (b"\xff\xfe\x00", "json")],
)
def test_a_body_that_is_not_a_json_object_is_400(api: Service, data: bytes, rule: str) -> None:
    response = requests.post(
        f"{api.url}/api/feedback",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == {"error": response.json()["error"], "field": "body", "rule": rule}


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
def test_a_body_that_is_not_declared_json_is_415(api: Service, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = requests.post(
        f"{api.url}/api/feedback",
        data=json.dumps(rating("x", 5)).encode(),
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 415
    assert "error" in response.json()


def test_json_with_a_charset_parameter_is_accepted(api: Service) -> None:
    response = requests.post(
        f"{api.url}/api/feedback",
        data=json.dumps(rating(new_target_id(), 5)).encode(),
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Forwarded-For": new_address(),
        },
        timeout=10,
    )
    assert response.status_code == 201


def test_a_body_over_one_mebibyte_is_413(api: Service) -> None:
    body = json.dumps(rating("x", 5, padding="x" * (1024 * 1024))).encode()
    response = requests.post(
        f"{api.url}/api/feedback",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["max_bytes"] == 1024 * 1024


def test_a_chunked_body_over_one_mebibyte_is_413_too(api: Service) -> None:
    chunks = (b"x" * 65536 for _ in range(17))  # no Content-Length: the limit holds while reading
    response = requests.post(
        f"{api.url}/api/feedback",
        data=chunks,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413


def test_a_body_of_exactly_one_mebibyte_is_read(api: Service) -> None:
    body = json.dumps(rating(new_target_id(), 5)).encode()
    padded = body + b" " * (1024 * 1024 - len(body))
    response = requests.post(
        f"{api.url}/api/feedback",
        data=padded,
        headers={"Content-Type": "application/json", "X-Forwarded-For": new_address()},
        timeout=30,
    )
    assert response.status_code == 201


@pytest.mark.parametrize(("method", "path"), [("PUT", "/api/feedback"), ("PATCH", "/api/stats")])
def test_unsupported_methods_are_405_json(api: Service, method: str, path: str) -> None:
    response = requests.request(method, f"{api.url}{path}", headers=ADMIN, timeout=10)
    assert response.status_code == 405
    assert response.json() == {"error": "Method not allowed"}


def test_unknown_paths_are_404_json(api: Service) -> None:
    response = requests.get(f"{api.url}/api/feedbacks/nothing", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}


def test_a_chunked_body_within_the_limit_is_read(api: Service) -> None:
    body = json.dumps(rating(new_target_id(), 3)).encode()
    response = requests.post(
        f"{api.url}/api/feedback",
        data=(body[i : i + 7] for i in range(0, len(body), 7)),
        headers={"Content-Type": "application/json", "X-Forwarded-For": new_address()},
        timeout=10,
    )
    assert response.status_code == 201


def extension_totals(api: Service) -> tuple[int, int]:
    body = requests.get(f"{api.url}/api/stats", params={"kind": "extension"}, timeout=10).json()
    return body["by_type"]["extension"]["count"], body["by_type"]["extension"]["targets"]


def test_the_statistics_show_each_write_at_once_however_often_they_are_read(
    api: Service, engine: str
) -> None:
    """Public reads keep their rendered body while nothing is committed (SQLite); a write,
    from this server or from any other program, is in the next answer."""
    count, targets = extension_totals(api)
    assert extension_totals(api) == (count, targets)  # read twice: the second may be kept
    first = new_target_id()
    assert target_stats(api, first)["count"] == target_stats(api, first)["count"] == 0
    assert post_feedback(api.url, rating(first, 3)).status_code == 201
    assert extension_totals(api) == (count + 1, targets + 1)
    assert target_stats(api, first)["count"] == 1
    if engine == "sqlite":  # another process writing the same file, as `import` would
        database = api.extra["database"]
        assert isinstance(database, Database)
        other = SQLiteStore(Path(database.env["DATABASE_PATH"]))
        try:
            other.submit(
                NewFeedback(
                    Target("extension", new_target_id()),
                    bytes(32),
                    5,
                    None,
                    None,
                    None,
                    int(time.time() * 1000),
                )
            )
        finally:
            other.close()
        assert extension_totals(api) == (count + 2, targets + 2)
