"""Backups and restores on the real control plane, with the operator as a real process.

kwok simulates the kubelet: it runs a Job's pod to ``Succeeded`` but never
executes ``sora-backup``, so no termination message is written. A test that
needs the CLI's JSON outcome patches the finished pod's status itself with the
message the CLI would have written (what the kubelet does from
``/dev/termination-log``); the operator reads it at its next reconcile.

A failure that kwok cannot produce (it only ever succeeds) is made real: a pod
that cannot be scheduled (an affinity nothing satisfies, or cordoned nodes)
runs into the Job's ``activeDeadlineSeconds`` and the Job fails.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.cluster_setup import OPERATOR_ACCOUNT
from tests.integration.operator.conftest import OperatorAccess, StartOperator
from tests.integration.operator.support import condition, sora_deployment, wait_ready
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for

NAME = "shop"
BUCKET = "shop-backups"
KEY = "database/dev/shop-feedback-20261128T030000Z.db.gz"


def _spec(**extra: Any) -> dict[str, Any]:
    return {"environment": "dev", "ingress": {"enabled": False}, **extra}


def _sora(admin: KubeClient, namespace: str) -> dict[str, Any]:
    found = admin.get(ObjectRef("SoraDeployment", namespace, NAME))
    assert found is not None
    return found


def _events(kube_cluster: KubeCluster, namespace: str, reason: str) -> list[dict[str, Any]]:
    found = kube_cluster.get_json(
        "events", "-n", namespace, "--field-selector", f"involvedObject.name={NAME}"
    )["items"]
    return [event for event in found if event.get("reason") == reason]


def _job_from_cronjob(cronjob: dict[str, Any], name: str) -> dict[str, Any]:
    """What ``kubectl create job --from=cronjob/...`` makes."""
    template = copy.deepcopy(cronjob["spec"]["jobTemplate"])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": cronjob["metadata"]["namespace"],
            "labels": template["metadata"]["labels"],
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": cronjob["metadata"]["name"],
                    "uid": cronjob["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": template["spec"],
    }


def _job_pod(admin: KubeClient, namespace: str, job: str) -> dict[str, Any]:
    pods = admin.list_objects("Pod", namespace, f"batch.kubernetes.io/job-name={job}")
    return pods[0] if pods else {}


def _finished(admin: KubeClient, namespace: str, job: str) -> dict[str, Any] | None:
    found = admin.get(ObjectRef("Job", namespace, job))
    conditions = ((found or {}).get("status") or {}).get("conditions") or []
    done = any(c["type"] in ("Complete", "Failed") and c["status"] == "True" for c in conditions)
    return found if done else None


def _write_termination_messages(admin: KubeClient, pod: dict[str, Any], **messages: Any) -> None:
    """Set what the kubelet would have read from each container's /dev/termination-log."""
    status = pod["status"]
    for key in ("initContainerStatuses", "containerStatuses"):
        for entry in status.get(key) or []:
            if entry["name"] in messages:
                entry["state"]["terminated"]["message"] = json.dumps(messages[entry["name"]])
    admin.patch_status(
        ObjectRef("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"]),
        {
            key: status[key]
            for key in ("initContainerStatuses", "containerStatuses")
            if key in status
        },
    )


@pytest.fixture
def backed_up(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> dict[str, Any]:
    """A Ready SoraDeployment with backups on (a bucket, no ``enabled``), and its CronJob."""
    start_operator(kube_namespace)
    backup = {"bucket": BUCKET, "activeDeadlineSeconds": 10}
    kube_cluster.apply(sora_deployment(NAME, kube_namespace, _spec(backup=backup)))
    wait_ready(admin, kube_namespace, NAME)
    return wait_for(
        lambda: admin.get(ObjectRef("CronJob", kube_namespace, f"{NAME}-backup")), 30, "CronJob"
    )


def test_the_backup_cronjob_is_accepted_with_its_content(
    backed_up: dict[str, Any], admin: KubeClient, kube_namespace: str
) -> None:
    spec = backed_up["spec"]
    assert spec["schedule"] == "0 3 * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 600
    job = spec["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == 10
    pod = job["template"]["spec"]
    term = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == "sora-feedback-api"
    claim = next(v for v in pod["volumes"] if v["name"] == "database")
    assert claim["persistentVolumeClaim"]["claimName"] == f"{NAME}-feedback-db"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert [c["command"] for c in pod["initContainers"]] == [["sora-backup", "create"]]
    assert [c["command"] for c in pod["containers"]] == [["sora-backup", "prune"]]
    for container in (*pod["initContainers"], *pod["containers"]):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["terminationMessagePath"] == "/dev/termination-log"
    account = admin.get(ObjectRef("ServiceAccount", kube_namespace, f"{NAME}-backup"))
    assert account is not None


def test_backups_switched_off_beside_a_bucket_are_a_warning_until_switched_on(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    start_operator(kube_namespace)
    off = {"bucket": BUCKET, "enabled": False}
    kube_cluster.apply(sora_deployment(NAME, kube_namespace, _spec(backup=off)))
    ready = wait_ready(admin, kube_namespace, NAME)
    disabled = condition(ready, "BackupHealthy")
    assert (disabled.get("status"), disabled.get("reason")) == ("False", "BackupsDisabled")
    assert BUCKET in disabled["message"]
    warned = wait_for(
        lambda: _events(kube_cluster, kube_namespace, "BackupsDisabled"), 30, "the Warning Event"
    )
    assert [event["type"] for event in warned] == ["Warning"]
    assert admin.get(ObjectRef("CronJob", kube_namespace, f"{NAME}-backup")) is None

    kube_cluster.apply(sora_deployment(NAME, kube_namespace, _spec(backup={"bucket": BUCKET})))
    wait_for(
        lambda: admin.get(ObjectRef("CronJob", kube_namespace, f"{NAME}-backup")),
        30,
        "the CronJob once enabled: false is gone",
    )
    waiting = wait_for(
        lambda: condition(_sora(admin, kube_namespace), "BackupHealthy").get("status") == "Unknown",
        30,
        "BackupHealthy=Unknown (awaiting the first backup)",
    )
    assert waiting
    assert len(_events(kube_cluster, kube_namespace, "BackupsDisabled")) == 1


def test_backup_jobs_update_last_backup_and_backup_healthy(
    backed_up: dict[str, Any], kube_cluster: KubeCluster, admin: KubeClient, kube_namespace: str
) -> None:
    # A backup that succeeds: kwok runs the pod to Succeeded; the CLI's outcome is patched in.
    admin.create(_job_from_cronjob(backed_up, "shop-backup-manual-1"))
    wait_for(lambda: _finished(admin, kube_namespace, "shop-backup-manual-1"), 60, "Job done")
    pod = wait_for(
        lambda: _job_pod(admin, kube_namespace, "shop-backup-manual-1"), 30, "the Job's pod"
    )
    created = {"result": "success", "key": KEY, "size": 4096, "rows": 123, "verified": True}
    _write_termination_messages(
        admin, pod, create=created, prune={"result": "pruned", "deleted": ["old-key"]}
    )

    def recorded() -> dict[str, Any] | None:
        last = (_sora(admin, kube_namespace).get("status") or {}).get("lastBackup") or {}
        return last if last.get("key") == KEY else None

    last = wait_for(recorded, 30, "status.lastBackup with the backup's key")
    assert last["result"] == "success"
    assert (last["size"], last["rows"], last["verified"], last["pruned"]) == (4096, 123, True, 1)
    assert last["lastSuccessTime"] == last["time"]
    healthy = wait_for(
        lambda: condition(_sora(admin, kube_namespace), "BackupHealthy").get("status") == "True",
        30,
        "BackupHealthy=True",
    )
    assert healthy

    # A backup that fails: its pod can never be scheduled, so the Job hits its deadline.
    failing = _job_from_cronjob(backed_up, "shop-backup-manual-2")
    pod_spec = failing["spec"]["template"]["spec"]
    term = pod_spec["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    term[0]["labelSelector"] = {"matchLabels": {"no-such-pod": "anywhere"}}
    admin.create(failing)

    def unhealthy() -> dict[str, Any] | None:
        found = condition(_sora(admin, kube_namespace), "BackupHealthy")
        return found if found.get("status") == "False" else None

    found = wait_for(unhealthy, 60, "BackupHealthy=False")
    assert found["reason"] == "BackupFailed"
    assert "DeadlineExceeded" in found["message"]
    status = _sora(admin, kube_namespace)["status"]
    assert status["lastBackup"]["job"] == "shop-backup-manual-2"
    assert status["lastBackup"]["result"] == "failed"
    assert status["lastBackup"]["lastSuccessTime"] == last["time"]
    events = wait_for(
        lambda: _events(kube_cluster, kube_namespace, "BackupFailed"), 30, "a BackupFailed Event"
    )
    assert events[0]["type"] == "Warning"
    assert "shop-backup-manual-2" in events[0]["message"]


class RestoreWatch:
    """Records, while a restore runs, every restore phase (from a watch, so none is missed)
    and whether a restore Job ever ran while a feedback API pod existed (polled)."""

    def __init__(self, admin: KubeClient, namespace: str) -> None:
        from kubernetes import client, watch

        self.admin, self.namespace = admin, namespace
        self.phases: list[str] = []
        self.violations: list[str] = []
        self._stop = threading.Event()
        self._watch = watch.Watch()
        self._api = client.CustomObjectsApi(admin.api_client)
        self._threads = [
            threading.Thread(target=self._follow, daemon=True),
            threading.Thread(target=self._poll, daemon=True),
        ]

    def _follow(self) -> None:
        stream = self._watch.stream(
            self._api.list_namespaced_custom_object,
            "sora.example.com",
            "v1alpha1",
            self.namespace,
            "soradeployments",
            field_selector=f"metadata.name={NAME}",
            timeout_seconds=300,
        )
        try:
            for event in stream:
                status = event["object"].get("status") or {}
                phase = (status.get("restore") or {}).get("phase")
                if phase and (not self.phases or self.phases[-1] != phase):
                    self.phases.append(phase)
        except Exception:  # the stream ends when stopped
            if not self._stop.is_set():
                raise

    def _poll(self) -> None:
        while not self._stop.is_set():
            running_restores = [
                job
                for job in self.admin.list_objects(
                    "Job", self.namespace, "app.kubernetes.io/component=restore"
                )
                if not (job.get("status") or {}).get("conditions")
            ]
            api_pods = self.admin.list_objects(
                "Pod", self.namespace, "app.kubernetes.io/name=sora-feedback-api"
            )
            if running_restores and api_pods:
                self.violations.append(
                    f"restore Job running while {[p['metadata']['name'] for p in api_pods]} exist"
                )
            time.sleep(0.05)

    def __enter__(self) -> RestoreWatch:
        for thread in self._threads:
            thread.start()
        time.sleep(0.5)  # the watch's initial event sets the baseline
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._watch.stop()
        for thread in self._threads:
            thread.join(timeout=5)


def _last_restore(admin: KubeClient, namespace: str, request_id: str) -> dict[str, Any] | None:
    last = (_sora(admin, namespace).get("status") or {}).get("lastRestore") or {}
    return last if last.get("requestId") == request_id else None


def _set_nodes_schedulable(admin: KubeClient, schedulable: bool) -> None:
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(admin.api_client)
    for node in core.list_node().items:
        core.patch_node(node.metadata.name, {"spec": {"unschedulable": not schedulable}})


@pytest.fixture
def restorable(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> Iterator[str]:
    start_operator(kube_namespace)
    kube_cluster.apply(sora_deployment(NAME, kube_namespace, _spec(backup=_restore_backup())))
    wait_ready(admin, kube_namespace, NAME)
    yield kube_namespace
    _set_nodes_schedulable(admin, True)


def _restore_backup() -> dict[str, Any]:
    return {"bucket": BUCKET, "activeDeadlineSeconds": 10}


def test_a_restore_runs_in_order_and_a_failed_one_brings_the_service_back(
    restorable: str, kube_cluster: KubeCluster, admin: KubeClient
) -> None:
    namespace = restorable
    with RestoreWatch(admin, namespace) as watch:
        spec = _spec(backup=_restore_backup(), restore={"requestId": "r1", "from": "latest"})
        kube_cluster.apply(sora_deployment(NAME, namespace, spec))
        last = wait_for(lambda: _last_restore(admin, namespace, "r1"), 90, "lastRestore r1")
    assert last["result"] == "restored"
    assert last["from"] == "latest"
    assert watch.phases == ["ScalingDown", "Restoring", "ScalingUp"]
    assert watch.violations == []
    body = wait_ready(admin, namespace, NAME)
    assert "restore" not in body["status"]
    assert _events(kube_cluster, namespace, "RestoreSucceeded")

    # The failure path: the restore pod cannot run (no schedulable node) and hits its deadline.
    def restore_job_created() -> bool:
        jobs = admin.list_objects("Job", namespace, "app.kubernetes.io/component=restore")
        return len(jobs) == 2

    with RestoreWatch(admin, namespace) as watch:
        _set_nodes_schedulable(admin, False)  # the running API pod stays; nothing new starts
        spec = _spec(backup=_restore_backup(), restore={"requestId": "r2", "from": KEY})
        kube_cluster.apply(sora_deployment(NAME, namespace, spec))
        wait_for(restore_job_created, 60, "the second restore Job")
        wait_for(
            lambda: (
                ((_sora(admin, namespace).get("status") or {}).get("restore") or {}).get("phase")
                == "ScalingUp"
            ),
            60,
            "the failed restore to scale the service back up",
        )
        _set_nodes_schedulable(admin, True)
        last = wait_for(lambda: _last_restore(admin, namespace, "r2"), 90, "lastRestore r2")
    assert last["result"] == "failed"
    assert last["from"] == KEY
    assert "DeadlineExceeded" in last["message"]
    assert "left in place" in last["message"]
    assert watch.phases == ["ScalingDown", "Restoring", "ScalingUp"]
    assert watch.violations == []
    wait_ready(admin, namespace, NAME)
    assert _events(kube_cluster, namespace, "RestoreFailed")


@pytest.mark.parametrize(
    ("allowed", "request_"),
    [
        (True, ("list", "pods")),
        (True, ("create", "jobs")),
        (True, ("delete", "cronjobs")),
        (False, ("delete", "jobs")),
        (False, ("delete", "pods")),
        (False, ("get", "pods")),
        (False, ("patch", "jobs")),
    ],
)
def test_backup_rbac_is_just_enough(
    kube_cluster: KubeCluster,
    operator_access: OperatorAccess,
    allowed: bool,
    request_: tuple[str, str],
) -> None:
    subject = f"system:serviceaccount:{operator_access.namespace}:{OPERATOR_ACCOUNT}"
    result = kube_cluster.kubectl(
        "auth", "can-i", *request_, "-n", "default", f"--as={subject}", check=False
    )
    assert (result.stdout.strip() == "yes") is allowed
