"""Every metric an alert or a dashboard panel uses is exported by a real process.

The services (file server on the S3 backend, feedback API, admin panel) run as
real gunicorn processes; a few requests make their labelled counters appear,
then their ``/metrics`` is scraped. ``sora_operator_*`` names are checked
against the operator's own registry (``sora_operator.metrics`` and the backup tracker's gauges).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from sora.fileserver.sample import create_sample_catalog
from sora_contract.monitoring import alert_rules, dashboard, operator_alert_rules
from sora_operator.backups.metrics import BackupTracker
from sora_operator.metrics import OperatorMetrics
from tests.plugins.s3 import S3_ENV
from tests.support.processes import Service, free_port, program, running

METRIC_NAME = re.compile(r"\bsora_[a-z_]+\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
SHARED_ENV = {
    "SORA_ENV": "test",
    "LOG_FORMAT": "json",
    "WEB_THREADS": "4",
    "TRUSTED_PROXIES": "127.0.0.1/32",
}
ADMIN_TOKEN = "observability-admin-token-2f7c9e"


def _expressions(node: Any) -> Iterator[str]:
    """Every PromQL expression in the rules (``expr``) or the dashboard (targets, variables)."""
    if isinstance(node, dict):
        for key, value in node.items():
            # A variable's "query" is PromQL only when it calls something.
            promql = key in ("expr", "definition") or (key == "query" and "(" in str(value))
            if promql and isinstance(value, str):
                yield value
            else:
                yield from _expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _expressions(item)


def used_metric_names() -> set[str]:
    names: set[str] = set()
    sources = [alert_rules("sora", "demo"), operator_alert_rules("sora-system"), dashboard()]
    for expression in (e for source in sources for e in _expressions(source)):
        names.update(METRIC_NAME.findall(expression))
    return names


def exposed_names(exposition: str) -> set[str]:
    """Sample names (``_total``, ``_bucket``, ...) of a scrape."""
    return {
        sample.name
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def operator_names() -> set[str]:
    """What the operator's registry exports (its backup gauges too), labelled children or not."""
    registry = OperatorMetrics().registry
    BackupTracker().register(registry)
    names: set[str] = set()
    for family in registry.collect():
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(family.name + suffix for suffix in HISTOGRAM_SUFFIXES)
        else:
            names.add(family.name)
    return names


def _covered(name: str, exported: set[str]) -> bool:
    if name in exported:
        return True
    # A histogram used by its family name covers all three series.
    return all(name + suffix in exported for suffix in HISTOGRAM_SUFFIXES)


def _server(name: str, tmp: Path, env: dict[str, str]) -> Any:
    """Two workers, so that metrics must add up across processes; the feedback API
    always runs one (its database writer's)."""
    port = free_port()
    full_env = {
        **SHARED_ENV,
        **({} if name == "sora-feedback-api" else {"WEB_CONCURRENCY": "2"}),
        "PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
        **env,
    }
    return running([program(name)], full_env, tmp / "server.log", "/health", port)


def _s3_catalog(s3_url: str, root: Path) -> dict[str, str]:
    client = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name=S3_ENV["AWS_REGION"],
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    bucket = "observability-catalog"
    client.create_bucket(Bucket=bucket)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = f"catalog/{path.relative_to(root).as_posix()}"
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    return {
        **S3_ENV,
        "S3_ENDPOINT_URL": s3_url,
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": bucket,
        "S3_PREFIX": "catalog",
    }


def _exercise(file_server: str, feedback_api: str, admin: str) -> None:
    """Requests that make every labelled series the rules and panels use appear."""
    items = requests.get(f"{file_server}/api/extensions", timeout=10).json()["items"]
    assert items
    download = f"{file_server}/api/extensions/{items[0]['id']}/download"
    for _ in range(2):  # a cache miss, then a hit
        assert requests.get(download, timeout=10).status_code == 200
    assert requests.get(f"{file_server}/nothing/here", timeout=10).status_code == 404

    body = {"target_type": "layout", "target_id": "dvorak", "rating": 4}  # in the sample catalog
    headers = {"X-Forwarded-For": "10.9.0.1"}
    statuses = [
        requests.post(f"{feedback_api}/api/feedback", json=body, headers=headers, timeout=10)
        for _ in range(3)
    ]
    assert statuses[0].status_code == 201
    assert 429 in {response.status_code for response in statuses}, "no submission rate limited"
    invalid = requests.post(
        f"{feedback_api}/api/feedback",
        json={"target_type": "layout", "rating": 11},
        headers={"X-Forwarded-For": "10.9.0.2"},
        timeout=10,
    )
    assert invalid.status_code in (400, 422)

    assert requests.get(f"{admin}/health", timeout=10).status_code == 200
    assert requests.get(f"{admin}/", timeout=10, allow_redirects=False).status_code < 500


def _scrape(service: Service) -> str:
    response = requests.get(f"{service.url}/metrics", timeout=10)
    assert response.status_code == 200
    return response.text


@pytest.fixture(scope="module")
def exported(s3_server: Service, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Sample names scraped from the three services after some traffic, plus the operator's."""
    tmp = tmp_path_factory.mktemp("observability")
    catalog = tmp / "catalog"
    create_sample_catalog(catalog)
    file_env = {**_s3_catalog(s3_server.url, catalog), "CACHE_DIR": str(tmp / "cache")}
    file_env["IP_SALT"] = "observability-salt-file-0d1e"
    feedback_env = {
        "IP_SALT": "observability-salt-feedback-6a3b",
        "ENCRYPTION_KEY": "observability-encryption-key-32-chars",
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "DATABASE_PATH": str(tmp / "feedback.db"),
        "RATE_LIMIT_SUBMIT_PER_MINUTE": "1",
        "RATE_LIMIT_SUBMIT_BURST": "1",
    }
    (tmp / "files").mkdir()
    (tmp / "feedback").mkdir()
    (tmp / "admin").mkdir()
    names = operator_names()
    with (
        _server("sora-file-server", tmp / "files", file_env) as file_server,
        _server(
            "sora-feedback-api",
            tmp / "feedback",
            {**feedback_env, "FILE_SERVER_URL": file_server.url},
        ) as feedback_api,
        _server(
            "sora-admin",
            tmp / "admin",
            {
                "IP_SALT": "observability-salt-admin-4c8d",
                "ADMIN_TOKEN": ADMIN_TOKEN,
                "SESSION_SECRET": "observability-session-secret-9b1f",
                "FEEDBACK_API_URL": feedback_api.url,
                "FILE_SERVER_URL": file_server.url,
            },
        ) as admin,
    ):
        _exercise(file_server.url, feedback_api.url, admin.url)
        for service in (file_server, feedback_api, admin):
            names |= exposed_names(_scrape(service))
    return names


def test_the_rules_and_the_dashboard_use_sora_metrics() -> None:
    used = used_metric_names()
    assert {"sora_http_requests_total", "sora_operator_reconcile_errors_total"} <= used
    assert "sora_fileserver_cache_lookups_total" in used


def test_every_used_metric_is_exported(exported: set[str]) -> None:
    missing = sorted(name for name in used_metric_names() if not _covered(name, exported))
    assert missing == [], f"used by rules or dashboard but exported by nothing: {missing}"
