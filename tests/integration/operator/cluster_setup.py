"""Putting the operator's prerequisites on a control plane: CRD, RBAC, storage.

Shared by the integration tests' fixtures and by ``benchmarks/operator.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.integration.operator.support import CRD_PATH, RBAC_PATH
from tests.plugins.kube import KubeCluster
from tests.support.processes import Service, free_port, program, start_process

OPERATOR_NAMESPACE = "sora-system"
OPERATOR_ACCOUNT = "sora-operator"


def install_crd(cluster: KubeCluster) -> None:
    cluster.kubectl("apply", "--server-side", "-f", str(CRD_PATH))
    cluster.wait_established("soradeployments.sora.example.com")


def operator_kubeconfig(cluster: KubeCluster, destination: Path) -> Path:
    """A kubeconfig for a ServiceAccount bound to exactly rbac.yaml's rules."""
    cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OPERATOR_NAMESPACE}}
    )
    cluster.kubectl("apply", "-n", OPERATOR_NAMESPACE, "-f", str(RBAC_PATH))
    cluster.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": OPERATOR_ACCOUNT, "namespace": OPERATOR_NAMESPACE},
            },
            _binding("ClusterRoleBinding", "sora-operator", "ClusterRole", "sora-operator"),
            _binding(
                "RoleBinding",
                "sora-operator-leader-election",
                "Role",
                "sora-operator-leader-election",
            ),
        ]
    )
    token = cluster.kubectl(
        "create", "token", OPERATOR_ACCOUNT, "-n", OPERATOR_NAMESPACE, "--duration=24h"
    ).stdout.strip()
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    for user in config["users"]:
        user["user"] = {"token": token}
    destination.write_text(yaml.safe_dump(config))
    return destination


def _binding(kind: str, name: str, role_kind: str, role: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if kind == "RoleBinding":
        metadata["namespace"] = OPERATOR_NAMESPACE
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [
            {"kind": "ServiceAccount", "name": OPERATOR_ACCOUNT, "namespace": OPERATOR_NAMESPACE}
        ],
    }


def operator_environment(
    kubeconfig: Path, metrics_port: int, liveness_port: int, **overrides: str
) -> dict[str, str]:
    """Environment for a ``sora-operator`` process against the test control plane."""
    return {
        "KUBECONFIG": str(kubeconfig),
        "SORA_OPERATOR_METRICS_PORT": str(metrics_port),
        "SORA_OPERATOR_LIVENESS": f"http://127.0.0.1:{liveness_port}/healthz",
        "SORA_OPERATOR_LEASE_NAMESPACE": OPERATOR_NAMESPACE,
        "SORA_OPERATOR_IMAGE_REPOSITORY": "sora/services",
        "SORA_OPERATOR_IMAGE_TAG": "test",
        "LOG_FORMAT": "text",
        **overrides,
    }


def start_operator_process(
    kubeconfig: Path, log_path: Path, timeout: float = 30, /, **overrides: str
) -> Service:
    """``sora-operator`` as a real process, ready once its metrics answer.

    ``timeout`` is positional only, so no environment override can be taken for it.
    """
    metrics_port, liveness_port = free_port(), free_port()
    env = operator_environment(kubeconfig, metrics_port, liveness_port, **overrides)
    service = start_process(
        [program("sora-operator")],
        env,
        log_path,
        port=metrics_port,
        ready_path="/metrics",
        timeout=timeout,
    )
    service.extra["liveness"] = f"http://127.0.0.1:{liveness_port}/healthz"
    return service
