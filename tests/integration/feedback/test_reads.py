"""GET /api/recommendations and /api/stats against a server holding known feedback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.integration.feedback.conftest import feedback_server, post_feedback, rating
from tests.support.processes import Service

# target id -> ratings, one client each
EXTENSIONS = {
    "lone-five": [5],
    "well-liked": [5, 4, 5, 4, 5, 4, 5, 4, 5, 4],
    "disliked": [1, 2, 1, 1],
}
LAYOUTS = {"grid": [4, 4, 3], "stack": [2]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, catalog: Service) -> Iterator[Service]:
    tmp: Path = tmp_path_factory.mktemp("feedback-reads")
    with feedback_server(tmp, catalog.url) as service:
        for kind, targets in (("extension", EXTENSIONS), ("layout", LAYOUTS)):
            for target_id, values in targets.items():
                for value in values:
                    assert post_feedback(service.url, rating(target_id, value, kind)).ok
        yield service


def get(server: Service, path: str, **params: str | int) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, timeout=10)


def test_recommendations_rank_by_bayesian_average(server: Service) -> None:
    body = get(server, "/api/recommendations", kind="extension").json()
    assert body["order"] == "score"
    assert body["kind"] == "extension"
    assert [item["target_id"] for item in body["items"]] == ["well-liked", "lone-five", "disliked"]
    lone = body["items"][1]
    assert lone["score"] == pytest.approx((5 * 3 + 5) / (5 + 1), abs=1e-4)
    assert (lone["count"], lone["average"]) == (1, 5.0)


def test_a_lone_five_star_rating_does_not_top_the_ranking(server: Service) -> None:
    items = get(server, "/api/recommendations").json()["items"]
    assert items[0]["target_id"] == "well-liked"
    assert {item["target_type"] for item in items} == {"extension", "layout"}


def test_recommendations_filter_by_kind_and_honour_the_limit(server: Service) -> None:
    items = get(server, "/api/recommendations", kind="layout", limit=1).json()["items"]
    assert [(item["target_type"], item["target_id"]) for item in items] == [("layout", "grid")]


def test_trending_orders_by_recent_positive_feedback(server: Service) -> None:
    body = get(server, "/api/recommendations", kind="extension", order="trending").json()
    assert body["order"] == "trending"
    assert [item["target_id"] for item in body["items"]] == ["well-liked", "lone-five", "disliked"]
    # Just submitted: each rating counts (r - 1) / 4, barely decayed.
    assert body["items"][0]["trending"] == pytest.approx(5 * 1.0 + 5 * 0.75, rel=1e-3)
    assert body["items"][2]["trending"] == pytest.approx(0.25, rel=1e-3)


def test_stats_report_totals_per_type_and_per_target(server: Service) -> None:
    body = get(server, "/api/stats").json()
    every = [v for targets in (EXTENSIONS, LAYOUTS) for values in targets.values() for v in values]
    assert body["totals"]["count"] == len(every)
    assert body["totals"]["average"] == pytest.approx(sum(every) / len(every), abs=1e-4)
    assert body["totals"]["targets"] == 5
    assert sum(body["totals"]["histogram"].values()) == len(every)
    assert body["by_type"]["layout"]["count"] == 4
    assert body["by_type"]["layout"]["histogram"] == {"1": 0, "2": 1, "3": 1, "4": 2, "5": 0}
    assert body["targets"][0] == {
        "target_type": "extension",
        "target_id": "well-liked",
        "count": 10,
        "average": 4.5,
        "histogram": {"1": 0, "2": 0, "3": 0, "4": 5, "5": 5},
    }


def test_stats_list_the_busiest_targets_of_a_kind(server: Service) -> None:
    body = get(server, "/api/stats", kind="layout", limit=5).json()
    assert [(t["target_id"], t["count"]) for t in body["targets"]] == [("grid", 3), ("stack", 1)]


def test_stats_give_daily_counts_for_the_last_n_days(server: Service) -> None:
    body = get(server, "/api/stats", days=7).json()
    today = datetime.now(UTC).date()
    assert body["days"] == 7
    assert [day["date"] for day in body["daily"]] == [
        (today - timedelta(days=back)).isoformat() for back in range(6, -1, -1)
    ]
    assert body["daily"][-1]["count"] == body["totals"]["count"]
    assert all(day["count"] == 0 and day["average"] is None for day in body["daily"][:-1])


def test_one_targets_stats(server: Service) -> None:
    body = get(server, "/api/stats/layout/grid", days=2).json()
    assert (body["count"], body["average"]) == (3, pytest.approx(11 / 3, abs=1e-4))
    assert body["histogram"] == {"1": 0, "2": 0, "3": 1, "4": 2, "5": 0}
    assert [day["count"] for day in body["daily"]] == [0, 3]


def test_a_target_nobody_rated_has_zero_counts(server: Service) -> None:
    body = get(server, "/api/stats/extension/never-rated").json()
    assert (body["count"], body["average"], body["trending"]) == (0, None, 0)
    assert len(body["daily"]) == 30


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/recommendations", {"limit": 0}, "limit"),
        ("/api/recommendations", {"limit": 101}, "limit"),
        ("/api/recommendations", {"order": "newest"}, "order"),
        ("/api/recommendations", {"kind": "themes"}, "kind"),
        ("/api/stats", {"days": 366}, "days"),
        ("/api/stats", {"limit": "many"}, "limit"),
        ("/api/stats/extension/grid", {"days": 0}, "days"),
        ("/api/stats/theme/grid", {}, "target_type"),
        ("/api/stats/layout/bad%20id", {}, "target_id"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    server: Service, path: str, params: dict[str, str | int], field: str
) -> None:
    response = get(server, path, **params)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_public_reads_may_be_cached_briefly(server: Service) -> None:
    assert get(server, "/api/stats").headers["Cache-Control"] == "public, max-age=15"
