"""Continuous replication on the real control plane, with the operator as a real process.

kwok runs no containers: the sidecar never answers, so ``status.replication`` says it
cannot be reached (what an operator sees when the sidecar is down); the lag itself is
measured against real processes in tests/integration/feedback/test_replication.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.conftest import StartOperator
from tests.integration.operator.support import sora_deployment, wait_ready
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for

NAME = "shop"
BACKUP = {"bucket": "shop-backups", "activeDeadlineSeconds": 10}


def _spec(**extra: Any) -> dict[str, Any]:
    return {"environment": "prod", "ingress": {"enabled": False}, "backup": BACKUP, **extra}


def _status(admin: KubeClient, namespace: str) -> dict[str, Any]:
    body = admin.get(ObjectRef("SoraDeployment", namespace, NAME)) or {}
    return dict(body.get("status") or {})


@pytest.fixture
def replicated(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> str:
    start_operator(kube_namespace)
    kube_cluster.apply(sora_deployment(NAME, kube_namespace, _spec()))
    wait_ready(admin, kube_namespace, NAME)
    return kube_namespace


def test_prod_backups_run_litestream_beside_the_feedback_api(
    replicated: str, admin: KubeClient
) -> None:
    deployment = admin.get(ObjectRef("Deployment", replicated, f"{NAME}-feedback-api"))
    assert deployment is not None
    pod = deployment["spec"]["template"]["spec"]
    (sidecar,) = pod["initContainers"]
    assert (sidecar["name"], sidecar["command"], sidecar["restartPolicy"]) == (
        "replicate",
        ["sora-backup", "replicate"],
        "Always",
    )
    assert pod["serviceAccountName"] == f"{NAME}-backup"
    config = admin.get(ObjectRef("ConfigMap", replicated, f"{NAME}-feedback-api"))
    assert config is not None
    assert config["data"]["SQLITE_WAL_AUTOCHECKPOINT"] == "0"
    replication = wait_for(
        lambda: _status(admin, replicated).get("replication"), 60, "status.replication"
    )
    assert replication["message"]  # kwok runs no sidecar: it says why there is no lag


def test_a_restore_to_a_time_runs_the_cli_on_the_replica_in_the_usual_sequence(
    replicated: str, kube_cluster: KubeCluster, admin: KubeClient
) -> None:
    restore = {"requestId": "pit-1", "toTime": "2026-11-28T18:15:00+09:00"}
    kube_cluster.apply(sora_deployment(NAME, replicated, _spec(restore=restore)))

    def restore_job() -> dict[str, Any] | None:
        jobs = admin.list_objects("Job", replicated, "app.kubernetes.io/component=restore")
        return jobs[0] if jobs else None

    job = wait_for(restore_job, 60, "the restore Job")
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[2:] == ["--from", "replica", "--to-time", "2026-11-28T09:15:00Z"]
    last = wait_for(
        lambda: (
            (_status(admin, replicated).get("lastRestore") or {}).get("requestId") == "pit-1"
            and _status(admin, replicated)["lastRestore"]
        ),
        90,
        "lastRestore pit-1",
    )
    assert (last["from"], last["toTime"], last["result"]) == (
        "replica",
        "2026-11-28T09:15:00Z",
        "restored",
    )


def test_the_api_server_refuses_a_time_together_with_a_backup_key(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    restore = {"requestId": "r", "toTime": "2026-11-28T09:15:00Z", "from": "some-key.db.gz"}
    completed = kube_cluster.kubectl(
        "apply",
        "-f",
        "-",
        check=False,
        input=yaml.safe_dump(sora_deployment(NAME, kube_namespace, _spec(restore=restore))),
    )
    assert completed.returncode != 0
    assert "restore.toTime restores from the continuous replica" in completed.stderr
