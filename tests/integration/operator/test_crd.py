"""The CRD on a real API server: accepted examples, defaults, and refusals a person understands."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.conftest import OperatorAccess
from tests.integration.operator.support import EXAMPLES, sora_deployment
from tests.plugins.kube import KubeCluster

CERT = "arn:aws:acm:ap-northeast-1:123456789012:certificate/0a1b2c3d"


def _refusal(
    kube_cluster: KubeCluster, namespace: str, spec: dict[str, Any], name: str = "bad"
) -> str:
    manifest = yaml.safe_dump(sora_deployment(name, namespace, spec))
    result = kube_cluster.kubectl("apply", "-f", "-", input=manifest, check=False)
    assert result.returncode != 0, f"accepted: {spec}"
    return result.stderr


@pytest.fixture
def namespace(operator_access: OperatorAccess, kube_namespace: str) -> str:
    return kube_namespace


def test_examples_are_accepted_by_the_api_server(kube_cluster: KubeCluster, namespace: str) -> None:
    for example in sorted(EXAMPLES.glob("*.yaml")):
        kube_cluster.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", str(example))


def test_the_api_server_fills_in_the_crd_defaults(
    kube_cluster: KubeCluster, admin: KubeClient, namespace: str
) -> None:
    kube_cluster.apply(sora_deployment("defaults", namespace, {"environment": "dev"}))
    stored = admin.get(ObjectRef("SoraDeployment", namespace, "defaults"))
    assert stored is not None
    spec = stored["spec"]
    assert spec["ingress"] == {"enabled": True, "className": "alb"}
    assert spec["fileServer"]["storage"] == {"type": "local"}
    assert spec["feedbackApi"]["database"] == {
        "retainOnDelete": True,
        "engine": "sqlite",
        "dataCopied": False,
    }


def test_an_unknown_environment_is_refused_with_the_allowed_values(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    error = _refusal(kube_cluster, namespace, {"environment": "qa"})
    assert 'Unsupported value: "qa"' in error
    assert '"prod"' in error


def test_a_missing_environment_is_refused(kube_cluster: KubeCluster, namespace: str) -> None:
    assert "spec.environment: Required value" in _refusal(kube_cluster, namespace, {})


def test_s3_storage_without_a_bucket_is_refused_with_the_reason(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    spec = {"environment": "dev", "fileServer": {"storage": {"type": "s3"}}}
    assert "storage.type s3 requires fileServer.storage.s3.bucket" in _refusal(
        kube_cluster, namespace, spec
    )


def test_a_certificate_without_a_host_is_refused_with_the_reason(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    spec = {"environment": "dev", "ingress": {"certificateArn": CERT}}
    assert "ingress.certificateArn requires ingress.host" in _refusal(kube_cluster, namespace, spec)


def test_two_feedback_api_replicas_are_refused_because_sqlite_has_one_writer(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    spec = {"environment": "prod", "feedbackApi": {"replicas": 2}}
    assert "SQLite has a single writer" in _refusal(kube_cluster, namespace, spec)


def test_feedback_api_autoscaling_is_refused_with_the_reason(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    spec = {"environment": "prod", "feedbackApi": {"autoscaling": {"enabled": True}}}
    assert "feedbackApi cannot autoscale" in _refusal(kube_cluster, namespace, spec)


POSTGRESQL = {"engine": "postgresql", "urlSecretRef": {"name": "shop-database"}}


def test_several_feedback_api_replicas_and_autoscaling_are_accepted_on_postgresql(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    spec = {
        "environment": "prod",
        "feedbackApi": {"replicas": 3, "autoscaling": {"enabled": True}, "database": POSTGRESQL},
    }
    kube_cluster.apply(sora_deployment("on-postgres", namespace, spec))


@pytest.mark.parametrize(
    ("database", "reason"),
    [
        ({"engine": "postgresql"}, "engine postgresql requires database.urlSecretRef"),
        ({"urlSecretRef": {"name": "x"}}, "urlSecretRef is for engine postgresql only"),
        ({**POSTGRESQL, "size": "5Gi"}, "PostgreSQL has no volume here"),
    ],
)
def test_impossible_database_combinations_are_refused_with_the_reason(
    kube_cluster: KubeCluster, namespace: str, database: dict[str, Any], reason: str
) -> None:
    spec = {"environment": "prod", "feedbackApi": {"database": database}}
    assert reason in _refusal(kube_cluster, namespace, spec)


def test_a_change_of_engine_is_refused_unless_the_data_was_copied(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    kube_cluster.apply(sora_deployment("moving", namespace, {"environment": "prod"}))
    moved = {"environment": "prod", "feedbackApi": {"database": POSTGRESQL}}
    assert "cannot change while the feedback is in the old engine's database" in _refusal(
        kube_cluster, namespace, moved, name="moving"
    )
    copied = {**POSTGRESQL, "dataCopied": True}
    kube_cluster.apply(
        sora_deployment(
            "moving", namespace, {"environment": "prod", "feedbackApi": {"database": copied}}
        )
    )


def test_presigned_redirects_on_local_storage_are_refused(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    spec = {"environment": "dev", "fileServer": {"presignedRedirects": {"enabled": True}}}
    assert "presignedRedirects needs fileServer.storage.type s3" in _refusal(
        kube_cluster, namespace, spec
    )


def test_a_request_above_its_limit_is_refused(kube_cluster: KubeCluster, namespace: str) -> None:
    resources = {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}
    spec = {"environment": "dev", "fileServer": {"resources": resources}}
    assert "requests.cpu cannot be more than resources.limits.cpu" in _refusal(
        kube_cluster, namespace, spec
    )


def test_a_name_too_long_for_child_services_is_refused(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    error = _refusal(kube_cluster, namespace, {"environment": "dev"}, name="a" * 51)
    assert "at most 50 characters" in error


def test_a_malformed_quantity_is_refused(kube_cluster: KubeCluster, namespace: str) -> None:
    spec = {"environment": "dev", "fileServer": {"cacheSize": "lots"}}
    assert "spec.fileServer.cacheSize" in _refusal(kube_cluster, namespace, spec)


def test_kubectl_get_shows_the_printer_columns(kube_cluster: KubeCluster, namespace: str) -> None:
    kube_cluster.apply(sora_deployment("columns", namespace, {"environment": "staging"}))
    header, row = kube_cluster.kubectl("get", "sora", "-n", namespace).stdout.splitlines()[:2]
    for column in ("ENVIRONMENT", "READY", "FILE SERVER REPLICAS", "LAST BACKUP", "AGE"):
        assert column in header
    assert "staging" in row


def test_admin_source_cidrs_without_an_alb_are_refused_with_the_reason(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    spec = {
        "environment": "dev",
        "ingress": {"className": "nginx"},
        "admin": {"enabled": True, "ingress": {"sourceCidrs": ["203.0.113.0/24"]}},
    }
    assert "admin.ingress.sourceCidrs needs ingress.className alb" in _refusal(
        kube_cluster, namespace, spec
    )


def test_admin_source_cidrs_on_an_alb_are_accepted(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    spec = {
        "environment": "dev",
        "admin": {"enabled": True, "ingress": {"sourceCidrs": ["203.0.113.0/24"]}},
    }
    manifest = yaml.safe_dump(sora_deployment("admin-cidrs", namespace, spec))
    kube_cluster.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", input=manifest)


def test_continuous_replication_on_postgresql_is_refused_with_the_reason(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    spec = {
        "environment": "prod",
        "feedbackApi": {"database": POSTGRESQL},
        "backup": {"bucket": "sora-backups", "continuous": True},
    }
    assert "on PostgreSQL there is no SQLite file" in _refusal(kube_cluster, namespace, spec)
