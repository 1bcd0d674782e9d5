"""The kind cluster itself, and the services image in a bare pod on a real kubelet.

The charts' flow (operator, SoraDeployment, the client journey, backups) is in
test_kind_charts.py.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
import yaml

from tests.support import controlplane as cp
from tests.support import kindnode
from tests.support.polling import wait_for

# Real pods on two busy cores: loading the images into the node and the first pods'
# start can take minutes (the session's fixtures count against the first test).
pytestmark = pytest.mark.timeout(1800)
NAMESPACE = "e2e-services"


def http_status(port: int, path: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return int(response.status)


def test_cluster_has_a_ready_worker_dns_storage_and_metrics(kubectl: Any) -> None:
    nodes = json.loads(kubectl("get", "nodes", "-o", "json"))["items"]
    roles = sorted(
        "control-plane"
        if "node-role.kubernetes.io/control-plane" in n["metadata"]["labels"]
        else "worker"
        for n in nodes
    )
    assert roles == ["control-plane", *(["worker"] * kindnode.WORKERS)]
    version = json.loads(kubectl("version", "-o", "json"))
    assert version["serverVersion"]["gitVersion"].startswith("v1.")
    assert version["clientVersion"]["gitVersion"] == cp.KUBERNETES_VERSION
    classes = json.loads(kubectl("get", "storageclass", "-o", "json"))["items"]
    assert any(
        c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class")
        == "true"
        for c in classes
    )
    kubectl("rollout", "status", "deployment/coredns", "-n", "kube-system", "--timeout=120s")
    wait_for(
        lambda: kubectl("top", "nodes", "--no-headers", check=False).count("\n") == len(nodes),
        timeout=180,
        what="metrics-server figures for every node (kubectl top nodes)",
    )


def _file_server_pod(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "file-server", "namespace": NAMESPACE, "labels": {"app": "fs"}},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "file-server",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "command": ["sora-file-server"],
                    "env": [
                        {"name": "SORA_ENV", "value": "test"},
                        {"name": "STORAGE_BACKEND", "value": "local"},
                        {"name": "STORAGE_DIR", "value": "/tmp"},  # an empty catalog
                        {"name": "CACHE_DIR", "value": "/var/cache/sora"},
                        {"name": "IP_SALT", "value": "e2e-salt-not-secret-0123456789"},
                    ],
                    "ports": [{"containerPort": 3000}],
                    "readinessProbe": {"httpGet": {"path": "/health", "port": 3000}},
                    "securityContext": {
                        "readOnlyRootFilesystem": True,
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "volumeMounts": [
                        {"name": "tmp", "mountPath": "/tmp"},
                        {"name": "cache", "mountPath": "/var/cache/sora"},
                    ],
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}],
        },
    }


def test_services_image_runs_as_its_own_user_on_a_read_only_root(
    kubectl: Any, forward: Any, sora_images: dict[str, str]
) -> None:
    kubectl("create", "namespace", NAMESPACE)
    try:
        kubectl(
            "apply", "-f", "-", input=yaml.safe_dump(_file_server_pod(sora_images["sora/services"]))
        )
        kubectl(
            "wait", "pod/file-server", "-n", NAMESPACE, "--for=condition=Ready", "--timeout=180s"
        )
        with forward("pod/file-server", 3000, NAMESPACE) as port:
            assert http_status(port, "/health") == 200
        assert kubectl("exec", "-n", NAMESPACE, "file-server", "--", "id", "-u").strip() == "10001"
        refused = kubectl(
            "exec",
            "-n",
            NAMESPACE,
            "file-server",
            "--",
            "sh",
            "-c",
            "touch /opt/sora/written 2>&1; echo rc=$?",
            check=False,
        )
        assert "Read-only file system" in refused
        assert "rc=1" in refused
    finally:
        kubectl("delete", "namespace", NAMESPACE, "--wait=false")
