"""Real ``sora-file-server`` processes (gunicorn, two workers) over both storage backends."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sora.fileserver.sample import create_sample_catalog
from tests.plugins.s3 import S3_ENV
from tests.support.processes import Service, free_port, program, running

ORIGIN = "https://app.example"
CACHE_MAX_BYTES = 30_000
S3_PREFIX = "catalog"


def server_env(tmp: Path, **extra: str) -> dict[str, str]:
    return {
        "SORA_ENV": "test",
        "IP_SALT": "integration-salt-4f9a2c7e1b",
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
        "ALLOWED_ORIGINS": ORIGIN,
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
        # Every read logged: tests look for the line of the request they made.
        "ACCESS_LOG_READ_SAMPLING": "1",
        **extra,
    }


def file_server(tmp: Path, env: dict[str, str], ready_path: str = "/health") -> Any:
    port = free_port()
    return running(
        [program("sora-file-server")],
        {**server_env(tmp), "PORT": str(port), **env},
        tmp / "server.log",
        ready_path,
        port,
    )


def tamper(package: Path) -> None:
    """Same size, different bytes: only the sha256 check can notice."""
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0xFF
    package.write_bytes(bytes(data))


@pytest.fixture(scope="session")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample catalog plus an invalid manifest and a package that fails its sha256."""
    root = tmp_path_factory.mktemp("catalog")
    create_sample_catalog(root)
    broken = root / "extensions" / "broken" / "1.0.0"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text('{"id": "broken", "version": "1.0.0"}')
    tampered = root / "extensions" / "tampered" / "1.0.0"
    tampered.mkdir(parents=True)
    source = root / "extensions" / "word-count" / "2.0.0"
    manifest = json.loads((source / "manifest.json").read_text())
    (tampered / "manifest.json").write_text(
        json.dumps(
            {
                **manifest,
                "id": "tampered",
                "version": "1.0.0",
                "name": "Tampered",
                "tags": ["testing"],
            }
        )
    )
    (tampered / "package.zip").write_bytes((source / "package.zip").read_bytes())
    tamper(tampered / "package.zip")
    return root


@pytest.fixture(scope="session")
def local_server(catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("local-server")
    with file_server(tmp, {"STORAGE_DIR": str(catalog_dir)}) as service:
        yield service


@pytest.fixture(scope="session")
def s3_catalog(s3_server: Service, catalog_dir: Path) -> dict[str, str]:
    """A bucket holding the same catalog under ``S3_PREFIX``; returns the server environment."""
    env = {**S3_ENV, "S3_ENDPOINT_URL": s3_server.url}
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.url,
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    bucket = "file-server-catalog"
    client.create_bucket(Bucket=bucket)
    for path in sorted(p for p in catalog_dir.rglob("*") if p.is_file()):
        key = f"{S3_PREFIX}/{path.relative_to(catalog_dir).as_posix()}"
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    return {**env, "STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_PREFIX": S3_PREFIX}


@pytest.fixture(scope="session")
def s3_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("s3-cache")


@pytest.fixture(scope="session")
def s3_file_server(
    s3_catalog: dict[str, str], s3_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("s3-server")
    env = {**s3_catalog, "CACHE_DIR": str(s3_cache_dir), "CACHE_MAX_BYTES": str(CACHE_MAX_BYTES)}
    with file_server(tmp, env) as service:
        yield service


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest) -> Service:
    """Each test using this runs once per storage backend."""
    name = "local_server" if request.param == "local" else "s3_file_server"
    service: Service = request.getfixturevalue(name)
    return service


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
