"""A real S3-API server on loopback (moto in server mode) for integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.support.processes import Service, free_port, program, running

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with running(
        [program("moto_server"), "-H", "127.0.0.1", "-p", str(port)], {}, log, "/moto-api/", port
    ) as service:
        yield service


@pytest.fixture
def s3_env(s3_server: Service) -> dict[str, str]:
    """Environment variables that point boto3 (in tests and in servers) at the S3 server."""
    return {**S3_ENV, "S3_ENDPOINT_URL": s3_server.url}


@pytest.fixture
def s3_client(s3_env: dict[str, str]) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_env["S3_ENDPOINT_URL"],
        region_name=s3_env["AWS_REGION"],
        aws_access_key_id=s3_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=s3_env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def s3_bucket(s3_client: Any, request: pytest.FixtureRequest) -> str:
    """A fresh, empty bucket per test."""
    name = f"test-{abs(hash(request.node.nodeid)) % 10**10}"
    s3_client.create_bucket(Bucket=name)
    return name
