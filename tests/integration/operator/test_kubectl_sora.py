"""``kubectl-sora`` against the real control plane, with the operator as a real process.

kwok completes a Job's pod without running it, so ``backup --wait`` sees the Job
succeed; ``logs`` needs a kubelet: tests/e2e/kind/test_kind_charts.py runs it on real pods.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.conftest import StartOperator
from tests.integration.operator.support import sora_deployment, wait_ready
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for
from tests.support.processes import program

NAME = "shop"


def kubectl_sora(
    kube_cluster: KubeCluster, namespace: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            program("kubectl-sora"),
            "--kubeconfig",
            str(kube_cluster.kubeconfig),
            "-n",
            namespace,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def platform(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> str:
    start_operator(kube_namespace)
    spec = {
        "environment": "dev",
        "ingress": {"enabled": False},
        "backup": {"bucket": "shop-backups"},
    }
    kube_cluster.apply(sora_deployment(NAME, kube_namespace, spec))
    wait_ready(admin, kube_namespace, NAME)
    return kube_namespace


def test_status_shows_the_conditions(platform: str, kube_cluster: KubeCluster) -> None:
    text = kubectl_sora(kube_cluster, platform, "status", NAME)
    assert text.returncode == 0, text.stderr
    assert f"SoraDeployment {platform}/{NAME}" in text.stdout
    assert "Ready            True" in text.stdout
    as_json = kubectl_sora(kube_cluster, platform, "-o", "json", "status", NAME)
    conditions = {c["type"]: c["status"] for c in json.loads(as_json.stdout)["conditions"]}
    assert conditions["Ready"] == "True"


def test_backup_now_runs_a_job_from_the_cronjob_and_backups_lists_it(
    platform: str, kube_cluster: KubeCluster, admin: KubeClient
) -> None:
    done = kubectl_sora(kube_cluster, platform, "-o", "json", "backup", NAME, "--wait")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["result"] == "success"
    job = admin.get(ObjectRef("Job", platform, outcome["job"]))
    assert job is not None
    assert job["metadata"]["ownerReferences"][0]["name"] == f"{NAME}-backup"
    assert done.stderr == ""  # not a terminal: no progress drawn

    listed = kubectl_sora(kube_cluster, platform, "-o", "json", "backups", NAME)
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, Any]] = json.loads(listed.stdout)
    assert [(r["job"], r["result"]) for r in rows] == [(outcome["job"], "success")]


def test_restore_to_a_time_patches_the_spec_and_the_operator_runs_it(
    platform: str, kube_cluster: KubeCluster, admin: KubeClient
) -> None:
    asked = kubectl_sora(
        kube_cluster, platform, "-o", "json", "restore", NAME, "--time", "2026-11-28T09:15:00Z"
    )
    assert asked.returncode == 0, asked.stderr
    request_id = json.loads(asked.stdout)["requestId"]
    body = admin.get(ObjectRef("SoraDeployment", platform, NAME))
    assert body is not None
    assert body["spec"]["restore"] == {
        "requestId": request_id,
        "toTime": "2026-11-28T09:15:00Z",
        "from": "latest",
    }
    assert body["spec"]["backup"]["bucket"] == "shop-backups"  # the rest is untouched

    def restore_job() -> dict[str, Any] | None:
        jobs = admin.list_objects("Job", platform, "app.kubernetes.io/component=restore")
        return jobs[0] if jobs else None

    job = wait_for(restore_job, 60, "the restore Job")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][-2:] == [
        "--to-time",
        "2026-11-28T09:15:00Z",
    ]


def test_an_unknown_soradeployment_is_one_clear_line(
    platform: str, kube_cluster: KubeCluster
) -> None:
    missing = kubectl_sora(kube_cluster, platform, "status", "nope")
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"kubectl-sora: no SoraDeployment {platform}/nope"
