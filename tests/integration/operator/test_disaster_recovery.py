"""The drill of docs/backups.md, "The whole cluster is gone", as far as the control plane goes.

What survives the cluster: the backup bucket (moto's S3 server) and the escrowed keys (a
file here; Secrets Manager in AWS, module platform-keys). The old platform's namespace,
database claim and Secret are deleted; a new platform is made from the escrow and the
bucket, and its comments are read through the admin API.

kwok runs no containers, so the data path runs as real processes beside the control
plane: the feedback API that wrote the comments, and the new platform's restore Job's
command (``sora-backup restore --from latest``) run with the very environment the
operator gave the Job. On kind the Job itself runs it; that part remains for the kind
tier (docs/testing.md).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import requests

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.feedback.conftest import feedback_server, post_feedback, rating
from tests.integration.operator.conftest import StartOperator
from tests.integration.operator.support import sora_deployment, wait_ready
from tests.plugins.kube import KubeCluster
from tests.support.catalog import catalog_server, write_catalog
from tests.support.polling import wait_for
from tests.support.replication import backup_cli

NAME = "shop"
ESCROW_NAME = "sora-keys"  # the Secret the user syncs from Secrets Manager
KEYS = {
    "ENCRYPTION_KEY": "dr-drill-encryption-key-0123456789abcdef",
    "IP_SALT": "dr-drill-ip-salt-0123456789abcdef012",
    "ADMIN_TOKEN": "dr-drill-admin-token-0123456789abcd",
}
TARGETS = ("dr-one", "dr-two", "dr-three")


def _escrowed_secret(namespace: str, escrow: Path) -> dict[str, Any]:
    values = json.loads(escrow.read_text())
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": ESCROW_NAME, "namespace": namespace},
        "stringData": values,
    }


def _spec(s3_url: str, bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "environment": "dev",
        "ingress": {"enabled": False},
        "feedbackApi": {"existingSecret": ESCROW_NAME},
        "backup": {"bucket": bucket, "endpoint": s3_url, "region": "us-east-1"},
        **extra,
    }


def _secret_values(admin: KubeClient, namespace: str) -> dict[str, str]:
    secret = admin.get(ObjectRef("Secret", namespace, ESCROW_NAME))
    assert secret is not None
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def test_a_lost_cluster_comes_back_from_the_escrowed_keys_and_the_bucket(
    kube_cluster: KubeCluster,
    admin: KubeClient,
    start_operator: StartOperator,
    kube_namespace: str,
    s3_env: dict[str, str],
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    escrow = tmp_path / "escrow.json"  # outside the cluster
    escrow.write_text(json.dumps(KEYS))
    old, new = kube_namespace, f"{kube_namespace}-new"
    kube_cluster.kubectl("create", "namespace", new)
    try:
        start_operator(old, new)
        _drill(kube_cluster, admin, old, new, escrow, s3_env, s3_bucket, tmp_path)
    finally:
        kube_cluster.kubectl("delete", "namespace", new, "--wait=false", check=False)


def _drill(
    kube_cluster: KubeCluster,
    admin: KubeClient,
    old: str,
    new: str,
    escrow: Path,
    s3_env: dict[str, str],
    bucket: str,
    tmp_path: Path,
) -> None:
    s3_url = s3_env["S3_ENDPOINT_URL"]
    write_catalog(tmp_path / "catalog", TARGETS)

    # 1. The old platform, on the escrowed Secret: the operator uses it, generates nothing.
    kube_cluster.apply(
        [_escrowed_secret(old, escrow), sora_deployment(NAME, old, _spec(s3_url, bucket))]
    )
    wait_ready(admin, old, NAME)
    assert admin.get(ObjectRef("Secret", old, f"{NAME}-secrets")) is None

    # Its data: a real feedback API on the old platform's keys writes comments, and the
    # nightly backup goes to the bucket.
    (tmp_path / "old").mkdir()
    with (
        catalog_server(tmp_path, tmp_path / "catalog") as catalog,
        feedback_server(tmp_path / "old", catalog.url, **_secret_values(admin, old)) as api,
    ):
        for number, target in enumerate(TARGETS):
            body = rating(target, number + 3, comment=f"kept through the disaster {number}")
            assert post_feedback(api.url, body).status_code == 201
    backup_env = {**s3_env, "BACKUP_BUCKET": bucket, "BACKUP_PREFIX": "database/dev/"}
    status, created, stderr = backup_cli(
        {**backup_env, "DATABASE_PATH": str(tmp_path / "old" / "feedback.db")}, "create"
    )
    assert status == 0, stderr

    # 2. The cluster is gone: the namespace with its claim and its Secret.
    kube_cluster.kubectl("delete", "secret", ESCROW_NAME, "-n", old)
    kube_cluster.kubectl("delete", "soradeployment", NAME, "-n", old)
    kube_cluster.kubectl("delete", "pvc", "--all", "-n", old, "--wait=false")
    kube_cluster.kubectl("delete", "namespace", old, "--wait=false")
    for leftover in (tmp_path / "old").glob("feedback.db*"):
        leftover.unlink()

    # 3. A new platform from the escrow and the bucket: it starts from the newest backup.
    restore = {"requestId": "cluster-lost", "from": "latest"}
    kube_cluster.apply(
        [
            _escrowed_secret(new, escrow),
            sora_deployment(NAME, new, _spec(s3_url, bucket, restore=restore)),
        ]
    )

    def restore_job() -> dict[str, Any] | None:
        jobs = admin.list_objects("Job", new, "app.kubernetes.io/component=restore")
        return jobs[0] if jobs else None

    job = wait_for(restore_job, 90, "the new platform's restore Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sora-backup", "restore", "--from", "latest"]
    body = wait_ready(admin, new, NAME)
    assert body["status"]["lastRestore"]["result"] == "restored"
    assert admin.get(ObjectRef("Secret", new, f"{NAME}-secrets")) is None  # no new keys

    # The Job's command, with the Job's own environment (kwok ran the pod but not the CLI).
    job_env = {item["name"]: item["value"] for item in container["env"] if "value" in item}
    (tmp_path / "new").mkdir()
    restored_db = tmp_path / "new" / "feedback.db"
    status, outcome, stderr = backup_cli(
        {**s3_env, **job_env, "DATABASE_PATH": str(restored_db), "BACKUP_RESULT_FILE": ""},
        "restore",
        "--from",
        "latest",
    )
    assert status == 0, stderr
    assert outcome["key"] == created["key"]

    # 4. The comments, through the admin API of a feedback API on the new platform's keys.
    with (
        catalog_server(tmp_path / "new", tmp_path / "catalog") as catalog,
        feedback_server(tmp_path / "new", catalog.url, **_secret_values(admin, new)) as api,
    ):
        token = _secret_values(admin, new)["ADMIN_TOKEN"]
        headers = {"Authorization": f"Bearer {token}"}
        answer = requests.get(f"{api.url}/api/feedback", headers=headers, timeout=10)
    assert answer.status_code == 200
    comments = sorted(item["comment"] for item in answer.json()["items"])
    assert comments == [f"kept through the disaster {n}" for n in range(3)]
