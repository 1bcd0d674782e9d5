"""The Grafana dashboard: valid JSON, the panels on-call expects, one data source variable."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from sora_contract.monitoring import DASHBOARD_FILE, dashboard

DATASOURCE = "${datasource}"


def _panels() -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = dashboard()["panels"]
    return panels


def _exprs(panel: dict[str, Any]) -> str:
    return "\n".join(target["expr"] for target in panel["targets"])


def test_the_file_is_valid_json_with_panels() -> None:
    raw = resources.files("sora_contract.monitoring").joinpath(DASHBOARD_FILE).read_text()
    model = json.loads(raw)
    assert model["uid"]
    assert model["title"]
    assert model["panels"]


def test_panel_ids_are_unique() -> None:
    ids = [panel["id"] for panel in _panels()]
    assert len(ids) == len(set(ids))
    assert all(isinstance(panel_id, int) for panel_id in ids)


def test_the_dashboard_has_a_prometheus_datasource_variable() -> None:
    variables = {variable["name"]: variable for variable in dashboard()["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_every_panel_and_target_uses_the_datasource_variable() -> None:
    for panel in _panels():
        assert panel["datasource"]["uid"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE, panel["title"]
            assert target["expr"].strip(), panel["title"]


def test_panels_do_not_overlap() -> None:
    cells: set[tuple[int, int]] = set()
    for panel in _panels():
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine


@pytest.mark.parametrize(
    ("what", "needles"),
    [
        ("request rate", ["rate(sora_http_requests_total"]),
        (
            "latency percentiles",
            [
                "histogram_quantile(0.5,",
                "histogram_quantile(0.95,",
                "histogram_quantile(0.99,",
                "sora_http_request_duration_seconds_bucket",
            ],
        ),
        ("status classes", ['"class"', "sora_http_requests_total"]),
        ("CPU per component", ["container_cpu_usage_seconds_total", "by (container)"]),
        ("memory per component", ["container_memory_working_set_bytes", "by (container)"]),
        (
            "cache hit ratio",
            ['sora_fileserver_cache_lookups_total{namespace=~"$namespace", result="hit"}'],
        ),
        ("feedback volume", ["sora_feedback_submitted_total"]),
        ("feedback database volume", ["kubelet_volume_stats_used_bytes", "-feedback-db"]),
        ("backup age", ["sora_operator_backup_newest_verified_age_seconds"]),
        ("backup health", ["sora_operator_backup_healthy"]),
    ],
)
def test_a_panel_covers(what: str, needles: list[str]) -> None:
    assert any(all(needle in _exprs(panel) for needle in needles) for panel in _panels()), what


def test_every_panel_is_described_and_has_a_unit() -> None:
    for panel in _panels():
        assert panel["title"], panel["id"]
        assert panel["description"], panel["title"]
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
