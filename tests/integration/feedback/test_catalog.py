"""Feedback only for what the catalog has: a real file server and a real feedback API.

Servers with their own catalog run one gunicorn worker, so that every request meets
the same in-memory catalog and "the catalog has changed" is observed once, for all.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.feedback.conftest import (
    ADMIN,
    feedback_server,
    new_address,
    post_feedback,
    rating,
)
from tests.support.catalog import add_catalog_entry, catalog_server, write_catalog
from tests.support.polling import wait_for
from tests.support.processes import Service, free_port

QUICK_CATALOG = {"WEB_CONCURRENCY": "1", "CATALOG_TTL_SECONDS": "0.1"}
WAIT = 30.0


def get(url: str, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{url}{path}", params=params, timeout=10)


def admin_entries(url: str, target_id: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{url}/api/feedback", params={"target_id": target_id}, headers=ADMIN, timeout=10
    )
    answer.raise_for_status()
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def ranked_ids(url: str) -> list[str]:
    return [item["target_id"] for item in get(url, "/api/recommendations").json()["items"]]


# --- against the shared test catalog ---------------------------------------------------------


def test_feedback_for_a_target_the_catalog_lacks_is_422_naming_the_field(api: Service) -> None:
    answer = post_feedback(api.url, rating("clock", 5, comment="not in the catalog"))
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "No extension with this id in the catalog",
        "field": "target_id",
        "rule": "catalog",
        "target_type": "extension",
        "target_id": "clock",
    }
    assert admin_entries(api.url, "clock") == []
    assert "clock" not in ranked_ids(api.url)


def test_the_statistics_of_a_target_the_catalog_lacks_are_404(api: Service) -> None:
    answer = get(api.url, "/api/stats/layout/clock")
    assert answer.status_code == 404
    assert answer.json()["field"] == "target_id"
    assert answer.json()["target_id"] == "clock"


def test_refusals_are_counted_by_reason(api: Service) -> None:
    post_feedback(api.url, rating("no-such-layout", 3, target_type="layout"))
    metrics = get(api.url, "/metrics").text
    assert 'sora_feedback_rejected_total{reason="unknown_target"}' in metrics
    assert 'sora_feedback_catalog_refreshes_total{outcome="ok"}' in metrics


# --- an entry removed from the catalog --------------------------------------------------------


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Service, Path]]:
    """A feedback API and the file server it checks against, whose storage tests change."""
    storage = tmp_path / "storage"
    write_catalog(storage, ["kept", "removed"])
    with (
        catalog_server(tmp_path, storage, CATALOG_TTL_SECONDS="0") as files,
        feedback_server(tmp_path, files.url, **QUICK_CATALOG) as api,
    ):
        yield api, storage


def test_feedback_for_a_removed_entry_leaves_the_public_rankings_but_not_the_admin_views(
    shop: tuple[Service, Path],
) -> None:
    api, storage = shop
    for value in (5, 5, 4):
        assert post_feedback(api.url, rating("removed", value, comment="liked it")).ok
    assert post_feedback(api.url, rating("kept", 2)).ok
    assert ranked_ids(api.url) == ["removed", "kept"]

    shutil.rmtree(storage / "extensions" / "removed")
    wait_for(lambda: ranked_ids(api.url) == ["kept"], WAIT, "the removal to reach the rankings")

    stats = get(api.url, "/api/stats").json()
    assert [target["target_id"] for target in stats["targets"]] == ["kept"]
    extensions = stats["by_type"]["extension"]
    assert (extensions["count"], extensions["targets"], extensions["average"]) == (1, 1, 2.0)
    assert extensions["histogram"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0}
    assert (stats["totals"]["count"], stats["daily"][-1]["count"]) == (1, 1)
    assert get(api.url, "/api/stats/extension/removed").status_code == 404
    assert post_feedback(api.url, rating("removed", 1)).status_code == 422
    kept = admin_entries(api.url, "removed")
    assert sorted(entry["rating"] for entry in kept) == [4, 5, 5]
    assert {entry["comment"] for entry in kept} == {"liked it"}


def test_an_entry_back_in_the_catalog_gets_its_feedback_back(
    shop: tuple[Service, Path],
) -> None:
    api, storage = shop
    assert post_feedback(api.url, rating("removed", 5)).ok
    shutil.rmtree(storage / "extensions" / "removed")
    wait_for(lambda: ranked_ids(api.url) == [], WAIT, "the removal to reach the rankings")
    add_catalog_entry(storage, "extensions", "removed")
    wait_for(lambda: ranked_ids(api.url) == ["removed"], WAIT, "the entry to come back")
    assert get(api.url, "/api/stats/extension/removed").json()["count"] == 1


# --- the file server unreachable ---------------------------------------------------------------


def test_before_any_catalog_submissions_and_rankings_are_503_and_admin_still_works(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens here yet
    with feedback_server(tmp_path, f"http://127.0.0.1:{port}", **QUICK_CATALOG) as api:
        assert get(api.url, "/health").json() == {"status": "ok", "catalog": "unavailable"}
        refused = post_feedback(api.url, rating("kept", 4))
        assert refused.status_code == 503
        assert refused.json() == {
            "error": "Catalog unavailable, retry later",
            "catalog": "unavailable",
        }
        assert refused.headers["Retry-After"] == "1"
        for path in ("/api/recommendations", "/api/stats", "/api/stats/extension/kept"):
            assert get(api.url, path).status_code == 503, path
        assert admin_entries(api.url, "kept") == []

        storage = tmp_path / "storage"
        write_catalog(storage, ["kept"])
        with catalog_server(tmp_path, storage, port=port):
            wait_for(
                lambda: post_feedback(api.url, rating("kept", 4), "10.99.0.1").status_code == 201,
                WAIT,
                "the file server's catalog to be fetched",
            )
            assert get(api.url, "/health").json()["catalog"] == "ok"


def test_a_catalog_past_its_maximum_age_refuses_submissions_but_still_filters_reads(
    tmp_path: Path,
) -> None:
    storage = tmp_path / "storage"
    write_catalog(storage, ["kept"])
    address = new_address()
    with catalog_server(tmp_path, storage) as files:
        env = {**QUICK_CATALOG, "CATALOG_MAX_AGE_SECONDS": "1"}
        with feedback_server(tmp_path, files.url, **env) as api:
            assert post_feedback(api.url, rating("kept", 4), address).status_code == 201
            files.stop()
            wait_for(  # the same rating again each time: a replacement that changes nothing
                lambda: post_feedback(api.url, rating("kept", 4), address).status_code == 503,
                WAIT,
                "the catalog to grow too old for submissions",
            )
            assert get(api.url, "/health").json() == {"status": "ok", "catalog": "stale"}
            assert ranked_ids(api.url) == ["kept"]
            assert get(api.url, "/api/stats/extension/kept").json()["count"] == 1
            assert [entry["rating"] for entry in admin_entries(api.url, "kept")] == [4]
