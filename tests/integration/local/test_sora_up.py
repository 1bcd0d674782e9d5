"""`sora up` from an empty directory: every route of the seed through the gateway."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.processes import free_port, free_port_run, program, wait_until_ready


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    workdir = tmp_path_factory.mktemp("sora-up")
    port = free_port()
    base_port = free_port_run(3)  # file server, feedback API, admin panel
    log = (workdir / "up.log").open("wb")
    process = subprocess.Popen(
        [program("sora"), "up", "--port", str(port), "--base-port", str(base_port)],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base + "/health", process, timeout=90, log=workdir / "up.log")
        yield base, workdir, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_catalog_routes_reach_the_file_server(
    platform: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    base, _, _ = platform
    extensions = requests.get(f"{base}/api/extensions", timeout=10).json()["items"]
    layouts = requests.get(f"{base}/api/layouts", timeout=10).json()["items"]
    assert extensions
    assert layouts


def test_a_download_through_the_gateway_matches_its_etag(
    platform: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    base, _, _ = platform
    first = requests.get(f"{base}/api/extensions", timeout=10).json()["items"][0]
    response = requests.get(f"{base}/api/extensions/{first['id']}/download", timeout=10)
    assert response.status_code == 200
    assert response.headers["ETag"].strip('"') == hashlib.sha256(response.content).hexdigest()


def test_feedback_routes_reach_the_feedback_api(
    platform: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    base, _, _ = platform
    created = requests.post(
        f"{base}/api/feedback",
        json={"target_type": "layout", "target_id": "dvorak", "rating": 4},  # a sample layout
        timeout=10,
    )
    assert created.status_code == 201
    stats = requests.get(f"{base}/api/stats", timeout=10)
    assert stats.status_code == 200
    assert requests.get(f"{base}/api/recommendations", timeout=10).status_code == 200


@pytest.mark.parametrize("path", ["/", "/metrics", "/api", "/openapi.json", "/nothing/here"])
def test_unrouted_paths_answer_json_not_found(
    platform: tuple[str, Path, subprocess.Popen[bytes]], path: str
) -> None:
    base, _, _ = platform
    response = requests.get(base + path, timeout=10)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}


def test_first_run_creates_the_sample_catalog_and_private_secrets(
    platform: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    _, workdir, _ = platform
    secrets_file = workdir / "data" / "dev-secrets.json"
    assert (workdir / "data" / "catalog" / "extensions").is_dir()
    assert (workdir / "data" / "feedback.db").exists()
    assert secrets_file.stat().st_mode & 0o077 == 0
    assert set(json.loads(secrets_file.read_text())) >= {"ENCRYPTION_KEY", "IP_SALT", "ADMIN_TOKEN"}


def test_the_admin_panel_is_served_under_admin(
    platform: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    base, _, _ = platform
    response = requests.get(f"{base}/admin/login", timeout=10)
    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]


def test_sigterm_stops_every_process(platform: tuple[str, Path, subprocess.Popen[bytes]]) -> None:
    base, _, process = platform
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
