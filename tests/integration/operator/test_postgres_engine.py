"""The operator on the real control plane with the feedback API on PostgreSQL: several
replicas with a budget, no volume, no backup CronJob, backups reported as the database's,
and a change of engine held back until the data is said to be copied."""

from __future__ import annotations

from typing import Any

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.conftest import StartOperator
from tests.integration.operator.support import condition, sora_deployment, wait_ready
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for

NAME = "pg"
URL_SECRET = "pg-database"
POSTGRESQL = {"engine": "postgresql", "urlSecretRef": {"name": URL_SECRET, "key": "url"}}
BACKUP = {"bucket": "sora-backups", "region": "ap-northeast-1"}


def _url_secret(kube_cluster: KubeCluster, namespace: str) -> None:
    kube_cluster.kubectl(
        "create", "secret", "generic", URL_SECRET, "-n", namespace,
        "--from-literal=url=postgresql://sora:pw@db.internal:5432/feedback?sslmode=verify-full",
    )  # fmt: skip


def _get(admin: KubeClient, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    return admin.get(ObjectRef(kind, namespace, name))


def test_the_operator_runs_a_several_replica_feedback_api_on_postgresql(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _url_secret(kube_cluster, kube_namespace)
    start_operator(kube_namespace)
    spec = {"environment": "prod", "feedbackApi": {"database": POSTGRESQL}, "backup": BACKUP}
    kube_cluster.apply(sora_deployment(NAME, kube_namespace, spec))
    body = wait_ready(admin, kube_namespace, NAME, timeout=120)

    deployment = _get(admin, "Deployment", kube_namespace, f"{NAME}-feedback-api")
    assert deployment is not None
    assert deployment["spec"]["replicas"] == 2
    assert body["status"]["feedbackApi"]["readyReplicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    env = {item["name"]: item for item in pod["containers"][0]["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": URL_SECRET, "key": "url"}
    assert all("persistentVolumeClaim" not in volume for volume in pod["volumes"])
    assert _get(admin, "PodDisruptionBudget", kube_namespace, f"{NAME}-feedback-api") is not None
    assert _get(admin, "PersistentVolumeClaim", kube_namespace, f"{NAME}-feedback-db") is None
    assert _get(admin, "CronJob", kube_namespace, f"{NAME}-backup") is None
    backups = condition(body, "BackupHealthy")
    assert (backups["status"], backups["reason"]) == ("True", "BackupsByDatabase")
    assert body["status"]["database"] == {"engine": "postgresql"}


def test_a_move_from_sqlite_waits_for_data_copied_and_keeps_the_volume(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _url_secret(kube_cluster, kube_namespace)
    start_operator(kube_namespace)
    kube_cluster.apply(sora_deployment(NAME, kube_namespace, {"environment": "dev"}))
    wait_ready(admin, kube_namespace, NAME, timeout=120)
    claim = f"{NAME}-feedback-db"
    assert _get(admin, "PersistentVolumeClaim", kube_namespace, claim) is not None

    copied = {**POSTGRESQL, "dataCopied": True}
    moved = {"environment": "dev", "feedbackApi": {"replicas": 2, "database": copied}}
    kube_cluster.apply(sora_deployment(NAME, kube_namespace, moved))

    def moved_over() -> dict[str, Any] | None:
        found = _get(admin, "Deployment", kube_namespace, f"{NAME}-feedback-api")
        return found if found and found["spec"].get("replicas") == 2 else None

    deployment = wait_for(moved_over, 90, "the feedback API to run 2 replicas on PostgreSQL")
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    body = wait_ready(admin, kube_namespace, NAME, timeout=120)
    assert body["status"]["database"] == {"engine": "postgresql"}
    # the SQLite volume stays: it is the way back until it is deleted by hand
    assert _get(admin, "PersistentVolumeClaim", kube_namespace, claim) is not None
