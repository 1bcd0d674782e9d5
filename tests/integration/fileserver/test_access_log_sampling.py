"""Successful catalog reads are logged one in N; errors and downloads always; metrics exactly."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.fileserver.conftest import file_server
from tests.support.processes import Service

EVERY = 5


def access_lines(server: Service) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "sora.access"]


def requests_counted(server: Service, route: str, status: str) -> float:
    exposition = requests.get(server.url + "/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        if family.name == "sora_http_requests"
        for sample in family.samples
        if sample.name == "sora_http_requests_total"
        and sample.labels == {"route": route, "method": "GET", "status": status}
    )


def sampled_server(tmp: Path, catalog_dir: Path) -> AbstractContextManager[Service]:
    # One worker: the 1-in-N counter is per process, so the count of lines is exact.
    env = {
        "STORAGE_DIR": str(catalog_dir),
        "ACCESS_LOG_READ_SAMPLING": str(EVERY),
        "WEB_CONCURRENCY": "1",
    }
    server: AbstractContextManager[Service] = file_server(tmp, env)
    return server


def test_one_in_n_successful_catalog_reads_is_logged_and_every_one_counted(
    catalog_dir: Path, tmp_path: Path
) -> None:
    with sampled_server(tmp_path, catalog_dir) as server:
        etag = requests.get(server.url + "/api/extensions", timeout=10).headers["ETag"]
        for _ in range(18):
            assert requests.get(server.url + "/api/extensions", timeout=10).status_code == 200
        for _ in range(4):
            response = requests.get(
                server.url + "/api/extensions", headers={"If-None-Match": etag}, timeout=10
            )
            assert response.status_code == 304
        for _ in range(3):
            assert requests.get(server.url + "/api/layouts/colemak", timeout=10).status_code == 200

        lines = access_lines(server)
        assert len(lines) == 6  # 26 successful reads: the 1st, 6th, 11th, 16th, 21st, 26th
        assert {line["sampled_1_in"] for line in lines} == {EVERY}
        assert requests_counted(server, "/api/extensions", "200") == 19
        assert requests_counted(server, "/api/extensions", "304") == 4
        assert requests_counted(server, "/api/layouts/{id}", "200") == 3


def test_errors_and_downloads_are_always_logged_while_reads_are_sampled(
    catalog_dir: Path, tmp_path: Path
) -> None:
    with sampled_server(tmp_path, catalog_dir) as server:
        for _ in range(3):
            assert requests.get(server.url + "/api/extensions/nope", timeout=10).status_code == 404
            download = requests.get(server.url + "/api/layouts/dvorak/download", timeout=10)
            assert download.status_code == 200

        lines = access_lines(server)
        assert [line["status"] for line in lines] == [404, 200] * 3
        assert all("sampled_1_in" not in line for line in lines)
        assert requests_counted(server, "/api/extensions/{id}", "404") == 3
