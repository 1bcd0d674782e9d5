"""`sora up` from an empty directory: every route of the seed through the gateway."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from collections.abc import Iterator

import pytest
import requests

from tests.integration.local.conftest import Platform, sora_up


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with sora_up(tmp_path_factory.mktemp("sora-up")) as running:
        yield running


def test_catalog_routes_reach_the_file_server(
    platform: Platform,
) -> None:
    base = platform.url
    extensions = requests.get(f"{base}/api/extensions", timeout=10).json()["items"]
    layouts = requests.get(f"{base}/api/layouts", timeout=10).json()["items"]
    assert extensions
    assert layouts


def test_a_download_through_the_gateway_matches_its_etag(
    platform: Platform,
) -> None:
    base = platform.url
    first = requests.get(f"{base}/api/extensions", timeout=10).json()["items"][0]
    response = requests.get(f"{base}/api/extensions/{first['id']}/download", timeout=10)
    assert response.status_code == 200
    assert response.headers["ETag"].strip('"') == hashlib.sha256(response.content).hexdigest()


def test_feedback_routes_reach_the_feedback_api(
    platform: Platform,
) -> None:
    base = platform.url
    created = requests.post(
        f"{base}/api/feedback",
        json={"target_type": "layout", "target_id": "dvorak", "rating": 4},
        timeout=10,
    )
    assert created.status_code == 201
    stats = requests.get(f"{base}/api/stats", timeout=10)
    assert stats.status_code == 200
    assert requests.get(f"{base}/api/recommendations", timeout=10).status_code == 200


@pytest.mark.parametrize("path", ["/", "/metrics", "/api", "/openapi.json", "/nothing/here"])
def test_unrouted_paths_answer_json_not_found(platform: Platform, path: str) -> None:
    base = platform.url
    response = requests.get(base + path, timeout=10)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}


def test_first_run_creates_the_sample_catalog_and_private_secrets(
    platform: Platform,
) -> None:
    workdir = platform.workdir
    secrets_file = workdir / "data" / "dev-secrets.json"
    assert (workdir / "data" / "catalog" / "extensions").is_dir()
    assert (workdir / "data" / "feedback.db").exists()
    assert secrets_file.stat().st_mode & 0o077 == 0
    assert set(json.loads(secrets_file.read_text())) >= {"ENCRYPTION_KEY", "IP_SALT", "ADMIN_TOKEN"}


def test_the_admin_panel_is_served_under_admin(
    platform: Platform,
) -> None:
    base = platform.url
    response = requests.get(f"{base}/admin/login", timeout=10)
    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]


def test_sigterm_stops_every_process(platform: Platform) -> None:
    base, process = platform.url, platform.process
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("processes of sora up outlived it")
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/health", timeout=2)
