"""Storage that cannot be reached: /health says so with 503, and nothing crashes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sora.fileserver.sample import create_sample_catalog
from tests.integration.fileserver.conftest import file_server
from tests.plugins.s3 import S3_ENV
from tests.support.processes import Service, free_port


@pytest.fixture(scope="module")
def unreachable_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """An S3 backend whose endpoint has nothing listening."""
    tmp = tmp_path_factory.mktemp("unreachable-s3")
    env = {
        **S3_ENV,
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": "nowhere",
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "CACHE_DIR": str(tmp / "cache"),
    }
    with file_server(tmp, env, ready_path="/openapi.json") as service:
        yield service


def test_health_is_503_degraded_when_s3_is_unreachable(unreachable_s3_server: Service) -> None:
    response = requests.get(unreachable_s3_server.url + "/health", timeout=30)
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "error": "Storage unreachable",
        "storage": "s3",
    }


def test_the_catalog_is_503_json_when_s3_is_unreachable(unreachable_s3_server: Service) -> None:
    response = requests.get(unreachable_s3_server.url + "/api/extensions", timeout=30)
    assert response.status_code == 503
    assert response.json() == {"error": "Storage unavailable"}
    assert response.headers["Retry-After"] == "5"


def test_health_is_503_degraded_when_the_storage_directory_disappears(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    create_sample_catalog(catalog)
    with file_server(tmp_path, {"STORAGE_DIR": str(catalog)}) as service:
        assert requests.get(service.url + "/health", timeout=10).status_code == 200
        shutil.rmtree(catalog)
        response = requests.get(service.url + "/health", timeout=10)
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
