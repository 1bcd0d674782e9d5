"""End to end on a kind cluster: images from the project's Dockerfiles, then the platform.

Runs where a Docker engine is available (the GitHub Actions e2e job); skips elsewhere.
The charts' flow is in test_kind_charts.py.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import controlplane as cp

REPO_ROOT = Path(__file__).resolve().parents[3]


def wait_until(what: str, probe: Any, timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(2)


def http_status(port: int, path: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return int(response.status)


def test_kind_cluster_is_up(sora_kind_cluster: Any) -> None:
    sora_kind_cluster.kubectl("wait", "nodes", "--all", "--for=condition=Ready", "--timeout=180s")
    version = json.loads(sora_kind_cluster.kubectl("version", "-o", "json"))
    assert version["clientVersion"]["gitVersion"] == cp.KUBERNETES_VERSION
    assert version["serverVersion"]["gitVersion"].startswith("v1.")


def test_services_image_serves_health(sora_kind_cluster: Any, sora_images: dict[str, str]) -> None:
    image = sora_images.get("sora/services")
    if image is None:
        pytest.skip("services/Dockerfile does not exist yet")
    namespace = "e2e-services"
    labels = {"app": "file-server"}
    manifest = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "file-server", "namespace": namespace, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "file-server",
                                "image": image,
                                "imagePullPolicy": "Never",
                                "command": ["sora-file-server"],
                                "env": [
                                    {"name": "SORA_ENV", "value": "test"},
                                    {"name": "PORT", "value": "3000"},
                                    {"name": "STORAGE_BACKEND", "value": "local"},
                                    {"name": "STORAGE_DIR", "value": "/tmp/storage"},
                                    {"name": "CACHE_DIR", "value": "/tmp/cache"},
                                    {"name": "IP_SALT", "value": "e2e"},
                                ],
                                "ports": [{"containerPort": 3000}],
                                "readinessProbe": {"httpGet": {"path": "/health", "port": 3000}},
                            }
                        ]
                    },
                },
            },
        },
    ]
    sora_kind_cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifest))
    try:
        sora_kind_cluster.kubectl(
            "rollout", "status", "deployment/file-server", "-n", namespace, "--timeout=300s"
        )
        with sora_kind_cluster.port_forward(
            "deployment/file-server", 3000, "-n", namespace
        ) as port:
            assert http_status(port, "/health") == 200
    finally:
        sora_kind_cluster.kubectl("delete", "namespace", namespace, "--wait=false")


# The operator-chart flow (helm install of charts/sora-operator and charts/sora, a
# SoraDeployment becoming Ready, /health of both services, clean-up) lives in
# test_kind_charts.py, next to the charts it exercises.
