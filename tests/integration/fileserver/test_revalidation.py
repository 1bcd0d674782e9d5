"""Listings and manifests carry strong ETags; If-None-Match answers 304 until the catalog changes.

Real ``sora-file-server`` under gunicorn with two workers: the ETag is a digest of the bytes,
so whichever worker answers gives the same one, and a client polling for catalog updates
downloads the body only when it changed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sora.fileserver.sample import create_sample_catalog
from tests.integration.fileserver.conftest import file_server
from tests.support.processes import Service

PATHS = ("/api/extensions", "/api/extensions?q=emoji", "/api/layouts/dvorak")


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    create_sample_catalog(root)
    return root


@pytest.fixture
def server(tmp_path: Path, catalog: Path) -> Iterator[Service]:
    env = {"STORAGE_BACKEND": "local", "STORAGE_DIR": str(catalog), "CATALOG_TTL_SECONDS": "0"}
    with file_server(tmp_path, env) as service:
        yield service


def _get(server: Service, path: str, etag: str | None = None) -> requests.Response:
    headers = {"If-None-Match": etag} if etag else {}
    return requests.get(server.url + path, headers=headers, timeout=10)


@pytest.mark.parametrize("path", PATHS)
def test_a_current_copy_is_answered_304_without_a_body(server: Service, path: str) -> None:
    first = _get(server, path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "public, max-age=30"
    # Several requests, so both workers answer at least once with high probability.
    for _ in range(6):
        assert _get(server, path).headers["ETag"] == etag
        again = _get(server, path, etag)
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["ETag"] == etag
    assert _get(server, path, f'"other", {etag}').status_code == 304
    assert _get(server, path, '"stale"').status_code == 200


def test_a_changed_catalog_gives_a_new_etag_and_the_new_body(
    server: Service, catalog: Path
) -> None:
    before = _get(server, "/api/layouts")
    etag = before.headers["ETag"]
    shutil.rmtree(catalog / "layouts" / "dvorak")
    deadline = time.monotonic() + 10
    while (changed := _get(server, "/api/layouts", etag)).status_code == 304:
        assert time.monotonic() < deadline, "the catalog change never showed"
        time.sleep(0.1)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "dvorak" not in [item["id"] for item in changed.json()["items"]]


def test_an_error_carries_no_etag(server: Service) -> None:
    missing = _get(server, "/api/layouts/no-such-layout")
    assert missing.status_code == 404
    assert "ETag" not in missing.headers
