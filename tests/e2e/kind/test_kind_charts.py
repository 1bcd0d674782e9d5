"""End to end on kind: the two-command install from the README, with the real images.

`helm install` of charts/sora-operator (operator pods really run here, unlike on the
kwok control plane), `helm test` of it, then `helm install` of charts/sora; the
SoraDeployment becomes Ready and both services answer /health; an upgrade rolls out;
`helm uninstall` keeps the database volume and the Secret.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.kind.test_kind_platform import REPO_ROOT, http_status, wait_until

OPERATOR_CHART = REPO_ROOT / "charts" / "sora-operator"
PLATFORM_CHART = REPO_ROOT / "charts" / "sora"
NAMESPACE = "e2e-sora-chart"


def test_two_helm_installs_give_a_ready_platform(
    sora_kind_cluster: Any, sora_images: dict[str, str], helm_kind: Any
) -> None:
    if not {"sora/operator", "sora/services"} <= set(sora_images):
        pytest.skip("operator/Dockerfile and services/Dockerfile are both needed")
    operator_repository, operator_tag = sora_images["sora/operator"].split(":", 1)
    services_repository, services_tag = sora_images["sora/services"].split(":", 1)
    helm_kind(
        "upgrade",
        "--install",
        "sora-operator",
        str(OPERATOR_CHART),
        "--namespace",
        "sora-system",
        "--create-namespace",
        "--set",
        f"image.repository={operator_repository}",
        "--set",
        f"image.tag={operator_tag}",
        "--set",
        "image.pullPolicy=Never",
        "--wait",
        "--timeout",
        "300s",
    )
    try:
        helm_kind("test", "sora-operator", "--namespace", "sora-system", "--timeout", "180s")
        helm_kind(
            "install",
            "sora",
            str(PLATFORM_CHART),
            "--namespace",
            NAMESPACE,
            "--create-namespace",
            "--set",
            "environment=dev",
            "--set",
            f"image.repository={services_repository}",
            "--set",
            f"image.tag={services_tag}",
            "--set",
            "image.pullPolicy=Never",
            "--set",
            "ingress.enabled=false",
        )
        sora_kind_cluster.kubectl(
            "wait", "sora/sora", "-n", NAMESPACE, "--for=condition=Ready", "--timeout=300s"
        )
        for service, port in (("sora-file-server", 3000), ("sora-feedback-api", 3001)):
            with sora_kind_cluster.port_forward(f"service/{service}", port, "-n", NAMESPACE) as p:
                assert http_status(p, "/health") == 200

        helm_kind(
            "upgrade",
            "sora",
            str(PLATFORM_CHART),
            "--namespace",
            NAMESPACE,
            "--reuse-values",
            "--set",
            "fileServer.replicas=2",
            "--set",
            "fileServer.autoscaling.enabled=false",
        )
        sora_kind_cluster.kubectl(
            "wait",
            "deployment/sora-file-server",
            "-n",
            NAMESPACE,
            "--for=jsonpath={.status.readyReplicas}=2",
            "--timeout=300s",
        )

        helm_kind("uninstall", "sora", "--namespace", NAMESPACE, "--wait")

        def only_kept_objects_left() -> bool:
            names = sora_kind_cluster.kubectl(
                "get", "deployments,services", "-n", NAMESPACE, "-o", "name"
            )
            return not names.strip()

        wait_until("the platform's objects to be garbage collected", only_kept_objects_left)
        kept = json.loads(
            sora_kind_cluster.kubectl(
                "get", "pvc/sora-feedback-db", "secret/sora-secrets", "-n", NAMESPACE, "-o", "json"
            )
        )
        assert len(kept["items"]) == 2
    finally:
        sora_kind_cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false")
        helm_kind("uninstall", "sora-operator", "--namespace", "sora-system")
