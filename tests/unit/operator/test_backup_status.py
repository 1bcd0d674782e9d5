"""Backup Job outcomes into status, BackupHealthy, Events, and the restore sequence
(the sora_operator.backups package)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sora_operator.backups.events import backup_events
from sora_operator.backups.health import backup_condition, last_backup, schedule_interval
from sora_operator.backups.jobs import JOB_NAME_LABEL
from sora_operator.backups.metrics import BackupTracker
from sora_operator.backups.restore import RestoreFacts, finish_restore, restore_step, volume_holders
from sora_operator.clock import parse_time
from sora_operator.objects import ObjectRef
from sora_operator.reconcile import Reconciler
from tests.unit.operator.conftest import FakeCluster
from tests.unit.operator.factories import IMAGE, body, make_sora_deployment

NOW = "2026-11-28T04:00:00Z"
BACKUP = {"enabled": True, "bucket": "shop-backups"}


def job(name: str, result: str, when: str, **status: Any) -> dict[str, Any]:
    kind = "Complete" if result == "success" else "Failed"
    condition = {"type": kind, "status": "True", "lastTransitionTime": when, **status}
    return {"metadata": {"name": name}, "status": {"conditions": [condition]}}


def pod(job_name: str, **messages: dict[str, Any]) -> dict[str, Any]:
    def status(name: str) -> dict[str, Any]:
        message = messages.get(name)
        terminated: dict[str, Any] = {"exitCode": 0}
        if message is not None:
            terminated["message"] = json.dumps(message)
        return {"name": name, "state": {"terminated": terminated}}

    return {
        "metadata": {"name": f"{job_name}-abc", "labels": {JOB_NAME_LABEL: job_name}},
        "status": {
            "initContainerStatuses": [status("create")],
            "containerStatuses": [status("prune")],
        },
    }


CREATED = {
    "result": "success",
    "key": "database/prod/shop-feedback-20261128T030000Z.db.gz",
    "size": 1234,
    "rows": 100,
    "verified": True,
}


def test_a_successful_job_becomes_last_backup_with_the_cli_facts() -> None:
    entry = last_backup(
        [job("b-1", "success", "2026-11-28T03:00:10Z")],
        [pod("b-1", create=CREATED, prune={"result": "pruned", "deleted": ["old"]})],
        None,
    )
    assert entry is not None
    assert entry["result"] == "success"
    assert entry["key"] == CREATED["key"]
    assert entry["size"] == 1234
    assert entry["rows"] == 100
    assert entry["verified"] is True
    assert entry["pruned"] == 1
    assert entry["time"] == "2026-11-28T03:00:10Z"
    assert entry["lastSuccessTime"] == "2026-11-28T03:00:10Z"


def test_the_newest_finished_job_wins_and_failures_carry_the_reason() -> None:
    failure = {"result": "failed", "command": "create", "error": "no credentials"}
    entry = last_backup(
        [
            job("b-2", "failed", "2026-11-28T03:00:00Z"),
            job("b-1", "success", "2026-11-27T03:00:00Z"),
        ],
        [pod("b-1", create=CREATED), pod("b-2", create=failure)],
        None,
    )
    assert entry is not None
    assert entry["job"] == "b-2"
    assert entry["result"] == "failed"
    assert entry["message"] == "create: no credentials"
    assert entry["lastSuccessTime"] == "2026-11-27T03:00:00Z"
    assert entry["lastFailureTime"] == "2026-11-28T03:00:00Z"


def test_a_job_that_failed_without_a_message_reports_the_job_condition() -> None:
    entry = last_backup(
        [job("b-3", "failed", NOW, reason="DeadlineExceeded", message="too long")], [], None
    )
    assert entry is not None
    assert entry["message"] == "DeadlineExceeded: too long"


def test_the_last_success_is_remembered_after_its_job_is_gone() -> None:
    previous = {"lastSuccessTime": "2026-11-01T03:00:00Z"}
    entry = last_backup([job("b-9", "failed", NOW)], [], previous)
    assert entry is not None
    assert entry["lastSuccessTime"] == "2026-11-01T03:00:00Z"


def test_running_jobs_do_not_count() -> None:
    running = {"metadata": {"name": "b-5"}, "status": {"active": 1}}
    assert last_backup([running], [], None) is None


def test_schedule_interval() -> None:
    start = datetime(2026, 11, 28, tzinfo=UTC)
    assert schedule_interval("0 3 * * *", start) == 86400
    assert schedule_interval("*/15 * * * *", start) == 900
    assert schedule_interval("0 3 * * 1-5", start) == 3 * 86400


def _at(text: str) -> datetime:
    parsed = parse_time(text)
    assert parsed is not None
    return parsed


def test_backup_healthy_after_a_recent_success() -> None:
    entry = {"result": "success", "key": "k", "lastSuccessTime": "2026-11-28T03:00:00Z"}
    condition = backup_condition(make_sora_deployment("prod", backup=BACKUP), entry, None, _at(NOW))
    assert condition is not None
    assert condition["status"] == "True"


def test_backup_unhealthy_when_the_last_one_failed() -> None:
    entry = {"result": "failed", "message": "boom", "lastSuccessTime": "2026-11-28T02:00:00Z"}
    condition = backup_condition(make_sora_deployment("prod", backup=BACKUP), entry, None, _at(NOW))
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("False", "BackupFailed")
    assert "boom" in condition["message"]


def test_backup_unhealthy_when_none_succeeded_within_twice_the_interval() -> None:
    entry = {"result": "success", "lastSuccessTime": "2026-11-26T02:00:00Z"}
    condition = backup_condition(make_sora_deployment("prod", backup=BACKUP), entry, None, _at(NOW))
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("False", "BackupOverdue")
    cronjob = {"metadata": {"creationTimestamp": "2026-11-25T00:00:00Z"}}
    never = backup_condition(make_sora_deployment("prod", backup=BACKUP), None, cronjob, _at(NOW))
    assert never is not None
    assert (never["status"], never["reason"]) == ("False", "NoBackup")
    young = {"metadata": {"creationTimestamp": "2026-11-28T00:00:00Z"}}
    waiting = backup_condition(make_sora_deployment("prod", backup=BACKUP), None, young, _at(NOW))
    assert waiting is not None
    assert waiting["status"] == "Unknown"


def test_no_condition_without_backups() -> None:
    assert backup_condition(make_sora_deployment("prod"), None, None, _at(NOW)) is None


def test_a_bucket_alone_turns_backups_on() -> None:
    """The documented Terraform path names a bucket and nothing else."""
    assert make_sora_deployment("prod", backup={"bucket": "shop-backups"}).backup.enabled
    assert not make_sora_deployment("prod", backup={"schedule": "0 4 * * *"}).backup.enabled


def test_switching_backups_off_with_a_bucket_is_a_warning() -> None:
    off = make_sora_deployment("prod", backup={"bucket": "shop-backups", "enabled": False})
    assert not off.backup.enabled
    condition = backup_condition(off, None, None, _at(NOW))
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("False", "BackupsDisabled")
    assert "shop-backups" in condition["message"]


def test_an_event_per_failed_backup_job() -> None:
    status = {"lastBackup": {"job": "b-2", "result": "failed", "message": "boom"}}
    assert backup_events({"lastBackup": {"job": "b-2"}}, status) == [
        (True, "BackupFailed", "Backup Job b-2: boom")
    ]
    assert backup_events({"lastBackup": {"lastFailureTime": NOW}}, status) == []


def _samples(tracker: BackupTracker) -> dict[tuple[str, str, str], float]:
    return {
        (sample.name, sample.labels["soradeployment_namespace"], sample.labels["soradeployment"]): (
            sample.value
        )
        for family in tracker.collect()
        for sample in family.samples
    }


def test_tracker_exports_one_series_per_soradeployment() -> None:
    tracker = BackupTracker()
    unhealthy = {
        "lastBackup": {"lastSuccessTime": "2020-01-01T00:00:00Z", "lastFailureTime": NOW},
        "conditions": [{"type": "BackupHealthy", "status": "False"}],
    }
    healthy = {
        "lastBackup": {"lastSuccessTime": NOW},
        "conditions": [{"type": "BackupHealthy", "status": "True"}],
    }
    tracker.record(("ns", "a"), unhealthy)
    tracker.record(("ns", "b"), healthy)
    samples = _samples(tracker)
    assert samples[("sora_operator_backup_healthy", "ns", "a")] == 0
    assert samples[("sora_operator_backup_healthy", "ns", "b")] == 1
    assert samples[("sora_operator_backup_newest_verified_age_seconds", "ns", "a")] > 86400
    assert samples[("sora_operator_backup_last_failure_timestamp_seconds", "ns", "a")] == (
        _at(NOW).timestamp()
    )
    assert ("sora_operator_backup_last_failure_timestamp_seconds", "ns", "b") not in samples
    disabled = {
        "conditions": [{"type": "BackupHealthy", "status": "False", "reason": "BackupsDisabled"}]
    }
    tracker.record(("ns", "b"), disabled)  # a choice, not a stale backup: no series to page on
    assert ("sora_operator_backup_healthy", "ns", "b") not in _samples(tracker)
    tracker.record(("ns", "a"), {})  # backups turned off
    tracker.forget(("ns", "b"))  # SoraDeployment deleted
    assert _samples(tracker) == {}


def test_a_standby_exports_no_backup_series() -> None:
    """Facts from before the Lease was lost would be stale: a standby says nothing."""
    leading = [True]
    tracker = BackupTracker(leading=lambda: leading[0])
    tracker.record(("ns", "a"), {"conditions": [{"type": "BackupHealthy", "status": "False"}]})
    assert _samples(tracker)
    leading[0] = False
    assert _samples(tracker) == {}


def test_volume_holders_are_unfinished_pods_with_the_claim() -> None:
    def holder(
        name: str, phase: str, node: str | None, component: str = "feedback-api"
    ) -> dict[str, Any]:
        volume = {"name": "database", "persistentVolumeClaim": {"claimName": "shop-feedback-db"}}
        spec: dict[str, Any] = {"volumes": [volume]}
        if node:
            spec["nodeName"] = node
        labels = {"app.kubernetes.io/component": component}
        return {
            "metadata": {"name": name, "labels": labels},
            "spec": spec,
            "status": {"phase": phase},
        }

    pods = [
        holder("api", "Running", "n1"),
        holder("done", "Succeeded", "n1"),
        holder("api-pending", "Pending", None),
        holder("backup-waiting", "Pending", None, "backup"),
        holder("backup-running", "Running", "n1", "backup"),
        {"metadata": {"name": "other"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}},
    ]
    assert volume_holders(pods, "shop-feedback-db") == (
        "pod api",
        "pod api-pending",
        "pod backup-running",
    )


# -- the restore sequence, step by step ---------------------------------------------------

RESTORING = make_sora_deployment(
    "prod", backup=BACKUP, restore={"requestId": "r1", "from": "latest"}
)


def test_a_new_request_scales_down_and_waits_for_the_volume() -> None:
    decision = restore_step(RESTORING, {}, RestoreFacts(("pod api",)), NOW)
    assert decision.hold_down
    assert decision.start_job is None
    assert decision.progress is not None
    assert decision.progress["phase"] == "ScalingDown"
    assert "pod api" in decision.progress["message"]


def test_a_done_request_is_not_repeated() -> None:
    previous = {"lastRestore": {"requestId": "r1"}}
    assert restore_step(RESTORING, previous, RestoreFacts(), NOW).progress is None


def test_a_free_volume_starts_the_job() -> None:
    previous = {"restore": {"requestId": "r1", "from": "latest", "phase": "ScalingDown"}}
    decision = restore_step(RESTORING, previous, RestoreFacts(), NOW)
    assert decision.start_job is not None
    assert decision.start_job.request_id == "r1"
    assert decision.progress is not None
    assert decision.progress["phase"] == "Restoring"
    assert decision.hold_down


def test_a_finished_job_scales_back_up_with_its_result() -> None:
    previous = {"restore": {"requestId": "r1", "from": "latest", "phase": "Restoring", "job": "j"}}
    outcome = {"result": "failed", "command": "restore", "error": "sha256 mismatch"}
    failed_pod = {
        "metadata": {"name": "j-x"},
        "status": {
            "containerStatuses": [
                {"name": "restore", "state": {"terminated": {"message": json.dumps(outcome)}}}
            ]
        },
    }
    facts = RestoreFacts(job=job("j", "failed", NOW), job_pods=(failed_pod,))
    decision = restore_step(RESTORING, previous, facts, NOW)
    assert not decision.hold_down
    assert decision.progress is not None
    assert decision.progress["phase"] == "ScalingUp"
    assert decision.progress["result"] == "failed"
    assert "sha256 mismatch" in decision.progress["message"]
    assert "left in place" in decision.progress["message"]


def test_the_restore_ends_when_the_feedback_api_is_available() -> None:
    progress = {"requestId": "r1", "from": "latest", "phase": "ScalingUp", "result": "restored"}
    waiting, last = finish_restore(progress, False, NOW)
    assert waiting is not None
    assert last is None
    gone, last = finish_restore(progress, True, NOW)
    assert gone is None
    assert last is not None
    assert (last["requestId"], last["result"], last["time"]) == ("r1", "restored", NOW)


# -- the restore sequence through the reconciler -------------------------------------------


class ListingCluster(FakeCluster):
    """FakeCluster with label-selector listing, and Deployments made available on demand."""

    def list_objects(
        self, kind: str, namespace: str | None, selector: str = "", fields: str = ""
    ) -> list[dict[str, Any]]:
        wanted = dict(part.split("=", 1) for part in selector.split(",") if part)
        return [
            obj
            for ref, obj in self.objects.items()
            if ref.kind == kind
            and ref.namespace == namespace
            and all((obj["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
        ]

    def settle_feedback(self, namespace: str, name: str) -> None:
        """What the Deployment controller would report once the pods match the spec."""
        deployment = self.objects[ObjectRef("Deployment", namespace, name)]
        replicas = deployment["spec"]["replicas"]
        deployment["metadata"]["generation"] = 1
        deployment["status"] = {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        }


def _run(reconciler: Reconciler, spec: dict[str, Any], status: Mapping[str, Any]) -> Any:
    outcome = reconciler.reconcile(body(spec, status=dict(status)))
    merged = {**status, **outcome.status}
    return outcome, {k: v for k, v in merged.items() if v is not None}


def test_restore_sequence_in_order_including_failure() -> None:
    cluster = ListingCluster()
    values = {"ENCRYPTION_KEY": "e" * 43, "IP_SALT": "s" * 43, "ADMIN_TOKEN": "a" * 43}
    reconciler = Reconciler(
        cluster, IMAGE, clock=lambda: NOW, generate_secret_values=lambda: values
    )
    feedback = ObjectRef("Deployment", "sora-prod", "shop-feedback-api")
    spec: dict[str, Any] = {"environment": "prod", "backup": {"bucket": "b"}}

    _, status = _run(reconciler, spec, {})
    assert cluster.objects[feedback]["spec"]["replicas"] == 1
    cluster.settle_feedback("sora-prod", "shop-feedback-api")
    api_pod = {
        "metadata": {"name": "api-1", "namespace": "sora-prod"},
        "spec": {
            "nodeName": "n1",
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "shop-feedback-db"}}],
        },
        "status": {"phase": "Running"},
    }
    cluster.objects[ObjectRef("Pod", "sora-prod", "api-1")] = api_pod

    spec["restore"] = {"requestId": "r1", "from": "latest"}
    _, status = _run(reconciler, spec, status)
    assert status["restore"]["phase"] == "ScalingDown"
    assert cluster.objects[feedback]["spec"]["replicas"] == 0
    assert not [ref for ref in cluster.objects if ref.kind == "Job"]

    _, status = _run(reconciler, spec, status)  # the pod still holds the volume
    assert status["restore"]["phase"] == "ScalingDown"

    del cluster.objects[ObjectRef("Pod", "sora-prod", "api-1")]
    outcome, status = _run(reconciler, spec, status)
    assert status["restore"]["phase"] == "Restoring"
    [job_ref] = [ref for ref in cluster.objects if ref.kind == "Job"]
    assert any(change.ref == job_ref for change in outcome.changes)
    assert cluster.objects[feedback]["spec"]["replicas"] == 0

    cluster.objects[job_ref]["status"] = job(
        job_ref.name, "failed", NOW, reason="BackoffLimitExceeded"
    )["status"]
    _, status = _run(reconciler, spec, status)
    assert status["restore"]["phase"] == "ScalingUp"
    assert cluster.objects[feedback]["spec"]["replicas"] == 1

    cluster.settle_feedback("sora-prod", "shop-feedback-api")
    outcome, status = _run(reconciler, spec, status)
    assert "restore" not in status
    assert status["lastRestore"]["requestId"] == "r1"
    assert status["lastRestore"]["result"] == "failed"
    assert "left in place" in status["lastRestore"]["message"]
    events = backup_events(outcome.status_patch, outcome.status)
    assert events[-1][:2] == (True, "RestoreFailed")

    _, status = _run(reconciler, spec, status)  # the same request id never runs again
    assert "restore" not in status
    assert cluster.objects[feedback]["spec"]["replicas"] == 1


def test_a_new_soradeployment_with_a_restore_starts_from_the_backup() -> None:
    cluster = ListingCluster()
    values = {"ENCRYPTION_KEY": "e" * 43, "IP_SALT": "s" * 43, "ADMIN_TOKEN": "a" * 43}
    reconciler = Reconciler(
        cluster, IMAGE, clock=lambda: NOW, generate_secret_values=lambda: values
    )
    spec = {"environment": "prod", "backup": {"bucket": "b"}, "restore": {"requestId": "boot"}}
    _, status = _run(reconciler, spec, {})
    feedback = cluster.objects[ObjectRef("Deployment", "sora-prod", "shop-feedback-api")]
    assert feedback["spec"]["replicas"] == 0
    assert status["restore"]["phase"] == "Restoring"
    [job_ref] = [ref for ref in cluster.objects if ref.kind == "Job"]
    assert cluster.objects[job_ref]["spec"]["template"]["spec"]["containers"][0]["command"][-1] == (
        "latest"
    )
