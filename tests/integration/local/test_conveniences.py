"""``sora up``'s development conveniences, each against real processes.

A crashed service comes back on its own; ``--s3`` serves the catalog from a
moto S3 server that ``sora up`` starts and fills; ``--reload`` restarts the
services on a code change; ``--db-browser`` is Datasette on the SQLite file,
read-only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sora.local.cli import S3_BUCKET, s3_client
from tests.integration.local.conftest import Platform, sora_up
from tests.support.processes import REPO_ROOT, free_port


def _answers(url: str, status: int = 200) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == status
    except requests.RequestException:
        return False


def test_a_crashed_service_is_restarted_and_the_rest_keeps_running(tmp_path: Path) -> None:
    with sora_up(tmp_path) as platform:
        [first] = platform.pids("file-server")
        os.killpg(first, signal.SIGKILL)
        platform.wait_for(lambda: len(platform.pids("file-server")) == 2, "file server restarted")
        assert "file-server exited with status" in platform.output()
        assert platform.process.poll() is None
        assert _answers(f"{platform.url}/api/extensions")
        assert len(platform.pids("feedback-api")) == 1
        assert len(platform.pids("gateway")) == 1


def test_with_s3_the_file_server_serves_the_catalog_from_the_s3_server(tmp_path: Path) -> None:
    with sora_up(tmp_path, "--s3") as platform:
        endpoint = f"http://127.0.0.1:{platform.base_port + 3}"
        s3 = s3_client(endpoint)
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket=S3_BUCKET)["Contents"]]
        assert "extensions/word-count/2.0.0/manifest.json" in keys
        # Without the local copy, what the file server sends can only come from S3.
        shutil.rmtree(tmp_path / "data" / "catalog")
        download = requests.get(f"{platform.url}/api/extensions/word-count/download", timeout=10)
        assert download.status_code == 200
        assert download.content.startswith(b"PK")


def test_reload_restarts_the_services_on_a_code_change(tmp_path: Path) -> None:
    # sora up and its services import the package from this copy, which the test edits.
    source = tmp_path / "source"
    shutil.copytree(REPO_ROOT / "services" / "sora", source / "sora")
    resources = source / "sora" / "fileserver" / "resources.py"
    workdir = tmp_path / "run"
    workdir.mkdir()
    with sora_up(workdir, "--reload", env={"PYTHONPATH": str(source)}) as platform:
        missing = f"{platform.url}/api/extensions/no-such-thing"
        assert requests.get(missing, timeout=10).json()["error"] == "No such extension"
        resources.write_text(
            resources.read_text().replace('f"No such {kind[:-1]}"', 'f"Reloaded: no {kind[:-1]}"')
        )
        platform.wait_for(
            lambda: _error_of(missing) == "Reloaded: no extension", "the changed code answering"
        )
        assert "changed" in platform.output()


def _error_of(url: str) -> str | None:
    try:
        return str(requests.get(url, timeout=5).json()["error"])
    except (requests.RequestException, ValueError, KeyError):
        return None


@pytest.fixture(scope="module")
def browsed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, str]]:
    port = free_port()
    workdir = tmp_path_factory.mktemp("db-browser")
    with sora_up(workdir, "--db-browser", "--db-browser-port", str(port)) as platform:
        yield platform, f"http://127.0.0.1:{port}"


def test_the_database_browser_shows_the_feedback_table(browsed: tuple[Platform, str]) -> None:
    platform, browser = browsed
    created = _rate_layout(platform, "dvorak")
    rows = requests.get(f"{browser}/feedback/feedback.json?_shape=array", timeout=10).json()
    assert created.json()["id"] in [row["id"] for row in rows]


def test_the_database_browser_cannot_change_the_database(
    browsed: tuple[Platform, str],
) -> None:
    platform, browser = browsed
    _rate_layout(platform, "colemak")
    database_path = platform.workdir / "data" / "feedback.db"
    before = _feedback_rows(database_path)
    attempt = requests.get(
        f"{browser}/feedback.json", params={"sql": "DELETE FROM feedback"}, timeout=10
    )
    assert attempt.status_code == 400
    assert _feedback_rows(database_path) == before > 0


def _rate_layout(platform: Platform, layout: str) -> requests.Response:
    created = requests.post(
        f"{platform.url}/api/feedback",
        json={"target_type": "layout", "target_id": layout, "rating": 4},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return created


def _feedback_rows(database_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(database_path)) as database:
        return int(database.execute("SELECT count(*) FROM feedback").fetchone()[0])
