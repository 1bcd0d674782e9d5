"""Health, metrics, the OpenAPI document, CORS and refusing to start on bad settings."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import requests

from tests.integration.feedback.conftest import SECRETS, new_target_id, post_feedback, rating
from tests.support.polling import wait_for
from tests.support.processes import Service, program


def test_health_reports_a_writable_database_and_a_fresh_catalog(api: Service) -> None:
    # /health never waits for the catalog: on a server no request has used yet it is
    # fetched in the background, and the answer says so until it is in.
    def health() -> dict[str, str]:
        response = requests.get(f"{api.url}/health", timeout=10)
        assert response.status_code == 200
        body: dict[str, str] = response.json()
        assert body["status"] == "ok"
        assert body["catalog"] in {"ok", "unavailable"}
        return body

    wait_for(lambda: health()["catalog"] == "ok", timeout=15, what="the catalog in /health")
    assert health() == {"status": "ok", "catalog": "ok"}


def test_metrics_count_submissions_by_target_type(api: Service) -> None:
    post_feedback(api.url, rating(new_target_id(), 5, target_type="layout"))
    text = requests.get(f"{api.url}/metrics", timeout=10).text
    assert 'sora_feedback_submitted_total{outcome="created",target_type="layout"}' in text
    assert "sora_feedback_commit_batch_size_bucket" in text
    assert 'sora_http_requests_total{method="POST",route="/api/feedback",status="201"}' in text


def test_the_openapi_document_is_served(api: Service) -> None:
    document = requests.get(f"{api.url}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1")
    assert "/api/feedback" in document["paths"]
    assert document["components"]["securitySchemes"]["adminBearer"]["scheme"] == "bearer"


def test_every_response_carries_a_request_id(api: Service) -> None:
    response = requests.get(
        f"{api.url}/api/stats", headers={"X-Request-Id": "trace-42"}, timeout=10
    )
    assert response.headers["X-Request-Id"] == "trace-42"


def run_program(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in SECRETS and k != "SORA_ENV"}
    return subprocess.run(
        [program("sora-feedback-api"), *args],
        env={**base, "DATABASE_PATH": str(tmp_path / "feedback.db"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("missing", "weak"),
    [("ENCRYPTION_KEY", None), ("ADMIN_TOKEN", None), ("IP_SALT", None),
     (None, "ENCRYPTION_KEY"), (None, "ADMIN_TOKEN"), (None, "IP_SALT")],
)  # fmt: skip
def test_the_server_refuses_to_start_without_strong_secrets(
    tmp_path: Path, missing: str | None, weak: str | None
) -> None:
    env = {"SORA_ENV": "production", **SECRETS}
    if missing:
        del env[missing]
    if weak:
        env[weak] = "password"
    result = run_program(tmp_path, "serve", "--port", "1", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert (missing or weak or "") in lines[0]
    assert not (tmp_path / "feedback.db").exists()
