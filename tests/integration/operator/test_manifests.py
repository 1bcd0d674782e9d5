"""Every manifest the builders produce passes the API server's own validation (dry run).

The admin variants cover the admin panel's Deployment, Service, NetworkPolicy, ServiceAccount,
Secret and its /admin rule (with and without the ALB's source-ip condition).
"""

from __future__ import annotations

from typing import Any

import pytest

from sora_operator.builders.desired import desired_state
from sora_operator.builders.secret import generated_admin_secret, generated_secret
from sora_operator.kube import ApiError, KubeClient
from sora_operator.objects import ref_of
from sora_operator.reconcile import random_admin_secret_values, random_secret_values
from sora_operator.spec import ImageDefaults, SoraDeployment, parse
from tests.integration.operator.conftest import OperatorAccess
from tests.integration.operator.support import example

IMAGE = ImageDefaults("sora/services", "test")
VARIANTS: dict[str, dict[str, Any]] = {
    "dev-minimal": example("dev-minimal.yaml")["spec"],
    "prod-full": example("prod-full.yaml")["spec"],
    "nginx-no-host": {"environment": "staging", "ingress": {"className": "nginx"}},
    "local-claim-autoscaled": {
        "environment": "prod",
        "fileServer": {
            "storage": {"local": {"claimName": "catalog"}},
            "autoscaling": {"enabled": True},
        },
        "feedbackApi": {"replicas": 0, "database": {"retainOnDelete": False}},
    },
    "admin-alb-source-cidrs": {
        "environment": "prod",
        "ingress": {"host": "sora.example.com", "sourceCidrs": ["10.0.0.0/24"]},
        "admin": {
            "enabled": True,
            "replicas": 2,
            "sessionSecretName": "admin-session",
            "ingress": {"sourceCidrs": ["203.0.113.0/24", "2001:db8::/32"]},
        },
    },
    "admin-nginx-unrouted": {
        "environment": "dev",
        "ingress": {"className": "nginx"},
        "admin": {"enabled": True, "ingress": {"enabled": False}},
    },
}


def _platform(spec: dict[str, Any], namespace: str) -> SoraDeployment:
    body = {
        "metadata": {
            "name": "dry",
            "namespace": namespace,
            "uid": "3b7b1c1e-0000-4000-8000-00000000000a",
        },
        "spec": spec,
    }
    return parse(body, IMAGE)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_built_manifest_passes_server_side_dry_run(
    variant: str, admin: KubeClient, operator_access: OperatorAccess, kube_namespace: str
) -> None:
    platform = _platform(VARIANTS[variant], kube_namespace)
    manifests = [
        generated_secret(platform, random_secret_values()),
        generated_admin_secret(platform, random_admin_secret_values()),
        # The Prometheus Operator's kinds only where their CRDs are installed (they are
        # dry-run against the real CRDs in test_monitoring.py).
        *desired_state(platform, served=admin.served_kinds("monitoring.coreos.com/v1")).manifests,
    ]
    refused = []
    for manifest in manifests:
        try:
            admin.apply(manifest, dry_run=True)
        except ApiError as error:
            refused.append(f"{ref_of(manifest)}: {error.message}")
    assert refused == []
