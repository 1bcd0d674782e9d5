"""What only the S3 backend does: the disk cache, and presigned redirects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.integration.fileserver.conftest import CACHE_MAX_BYTES, file_server, sha256
from tests.support.processes import Service

LAYOUT = "/api/layouts/colemak"


def cache_lookups(service: Service, result: str) -> float:
    text = requests.get(service.url + "/metrics", timeout=10).text
    match = re.search(rf'sora_fileserver_cache_lookups_total{{result="{result}"}} (\S+)', text)
    return float(match.group(1)) if match else 0.0


def all_packages(service: Service) -> list[str]:
    paths = []
    for kind in ("extensions", "layouts"):
        listing = requests.get(f"{service.url}/api/{kind}", timeout=10).json()["items"]
        for item in listing:
            paths += [f"/api/{kind}/{item['id']}/download?version={v}" for v in item["versions"]]
    return [p for p in paths if "tampered" not in p]


def cache_usage(cache_dir: Path) -> int:
    return sum(
        p.stat().st_size for sub in ("objects", "partial") for p in (cache_dir / sub).iterdir()
    )


def test_a_second_download_is_served_from_the_disk_cache(s3_file_server: Service) -> None:
    requests.get(s3_file_server.url + LAYOUT + "/download", timeout=10)
    hits, misses = cache_lookups(s3_file_server, "hit"), cache_lookups(s3_file_server, "miss")
    requests.get(s3_file_server.url + LAYOUT + "/download", timeout=10)
    assert cache_lookups(s3_file_server, "hit") == hits + 1
    assert cache_lookups(s3_file_server, "miss") == misses


def test_the_cache_stays_under_cache_max_bytes(s3_file_server: Service, s3_cache_dir: Path) -> None:
    for path in all_packages(s3_file_server):
        assert requests.get(s3_file_server.url + path, timeout=10).status_code == 200
        assert cache_usage(s3_cache_dir) <= CACHE_MAX_BYTES
    assert (
        "sora_fileserver_cache_evicted_bytes_total 0.0"
        not in requests.get(s3_file_server.url + "/metrics", timeout=10).text
    )


def test_concurrent_downloads_across_workers_all_get_verified_bytes(
    s3_file_server: Service, s3_cache_dir: Path
) -> None:
    paths = all_packages(s3_file_server) * 3
    expected = {
        p: requests.get(s3_file_server.url + p.replace("/download", ""), timeout=10).json()[
            "sha256"
        ]
        for p in set(paths)
    }
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda p: requests.get(s3_file_server.url + p, timeout=30), paths))
    assert [sha256(b.content) for b in bodies] == [expected[p] for p in paths]
    assert not any((s3_cache_dir / "partial").iterdir())


@pytest.fixture(scope="module")
def redirecting_server(
    s3_catalog: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("redirecting")
    env = {**s3_catalog, "CACHE_DIR": str(tmp / "cache"), "S3_REDIRECT_MIN_BYTES": "10KB"}
    with file_server(tmp, env) as service:
        yield service


def test_a_large_package_is_redirected_to_a_presigned_url(redirecting_server: Service) -> None:
    manifest = requests.get(redirecting_server.url + LAYOUT, timeout=10).json()
    assert manifest["size"] >= 10_000
    response = requests.get(
        redirecting_server.url + LAYOUT + "/download", allow_redirects=False, timeout=10
    )
    assert response.status_code == 302
    assert "X-Amz-Signature=" in response.headers["Location"]
    assert response.headers["Cache-Control"] == "private, no-store"
    target = requests.get(response.headers["Location"], timeout=10)
    assert sha256(target.content) == manifest["sha256"]


def test_a_small_package_is_not_redirected(redirecting_server: Service) -> None:
    manifest = requests.get(redirecting_server.url + "/api/layouts/dvorak", timeout=10).json()
    assert manifest["size"] < 10_000
    response = requests.get(
        redirecting_server.url + "/api/layouts/dvorak/download", allow_redirects=False, timeout=10
    )
    assert response.status_code == 200
