"""spec.backup / spec.restore parsing, the backup CronJob and the restore Job (pure builders)."""

from __future__ import annotations

from typing import Any

import pytest

from sora_contract import layout
from sora_operator.builders.backup import (
    backup_cronjob,
    backup_service_account,
    cronjob_name,
)
from sora_operator.builders.desired import desired_state
from sora_operator.builders.feedback import feedback_api_deployment
from sora_operator.builders.restore import job_name, restore_job
from sora_operator.objects import ref_of
from sora_operator.spec import Restore, SpecError
from tests.unit.operator.factories import make_sora_deployment

BUCKET = {"enabled": True, "bucket": "shop-backups"}


def _cronjob(**backup: Any) -> dict[str, Any]:
    manifest = backup_cronjob(make_sora_deployment("prod", backup={**BUCKET, **backup}))
    assert manifest is not None
    return manifest


def _pod(cronjob: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["env"]}


def test_backup_defaults_follow_the_environment() -> None:
    backup = make_sora_deployment("staging", backup={"enabled": True, "bucket": "b"}).backup
    assert backup.schedule == "0 3 * * *"
    assert backup.retention_days == 30
    assert backup.prefix == "database/staging/"
    assert backup.storage_class == "STANDARD_IA"
    assert backup.keep_copies == 1


def test_enabled_backups_need_a_bucket() -> None:
    with pytest.raises(SpecError, match=r"backup\.bucket"):
        make_sora_deployment("dev", backup={"enabled": True})


def test_a_restore_request_needs_a_bucket() -> None:
    with pytest.raises(SpecError, match=r"backup\.bucket"):
        make_sora_deployment("dev", restore={"requestId": "r1"})
    parsed = make_sora_deployment("dev", backup={"bucket": "b"}, restore={"requestId": "r1"})
    assert parsed.restore == Restore("r1", "latest")


def test_no_cronjob_nor_account_without_backups() -> None:
    plain = make_sora_deployment("prod")
    assert backup_cronjob(plain) is None
    assert backup_service_account(plain) is None
    kinds = {ref_of(m).kind for m in desired_state(plain).manifests}
    assert "CronJob" not in kinds


def test_the_cronjob_is_part_of_the_desired_state_when_enabled() -> None:
    refs = {ref_of(m) for m in desired_state(make_sora_deployment("prod", backup=BUCKET)).manifests}
    names = {(ref.kind, ref.name) for ref in refs}
    assert ("CronJob", "shop-backup") in names
    assert ("ServiceAccount", "shop-backup") in names


def test_cronjob_schedule_concurrency_deadlines_and_history() -> None:
    spec = _cronjob(schedule="*/30 * * * *", startingDeadlineSeconds=120)["spec"]
    assert spec["schedule"] == "*/30 * * * *"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 120
    assert spec["successfulJobsHistoryLimit"] == 3
    assert spec["failedJobsHistoryLimit"] == 3
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
    assert job["activeDeadlineSeconds"] == 3600


def test_the_backup_pod_lands_next_to_the_feedback_api() -> None:
    term = _pod(_cronjob())["affinity"]["podAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ][0]
    feedback = feedback_api_deployment(make_sora_deployment("prod"), "x")
    assert term["labelSelector"]["matchLabels"] == feedback["spec"]["selector"]["matchLabels"]
    assert term["topologyKey"] == "kubernetes.io/hostname"


def test_create_runs_first_then_prune_each_with_its_termination_message() -> None:
    pod = _pod(_cronjob())
    assert pod["restartPolicy"] == "Never"
    [create] = pod["initContainers"]
    [prune] = pod["containers"]
    assert create["command"] == ["sora-backup", "create"]
    assert prune["command"] == ["sora-backup", "prune"]
    for container in (create, prune):
        assert container["terminationMessagePath"] == "/dev/termination-log"
        assert _env(container)["BACKUP_RESULT_FILE"] == "/dev/termination-log"


def test_the_backup_mounts_the_feedback_api_database_volume() -> None:
    pod = _pod(_cronjob())
    feedback = feedback_api_deployment(make_sora_deployment("prod"), "x")["spec"]["template"][
        "spec"
    ]
    database = next(v for v in pod["volumes"] if v["name"] == "database")
    assert database in feedback["volumes"]
    for container in (*pod["initContainers"], *pod["containers"]):
        assert {"name": "database", "mountPath": layout.DATA_DIR} in container["volumeMounts"]


def test_the_backup_pod_is_hardened() -> None:
    pod = _pod(_cronjob())
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for container in (*pod["initContainers"], *pod["containers"]):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}


def test_backup_settings_reach_the_cli() -> None:
    env = _env(
        _pod(
            _cronjob(
                prefix="db/",
                region="ap-northeast-1",
                endpoint="http://127.0.0.1:9000",
                storageClass="STANDARD",
                retentionDays=7,
                keepCopies=3,
            )
        )["containers"][0]
    )
    assert env["BACKUP_BUCKET"] == "shop-backups"
    assert env["BACKUP_PREFIX"] == "db/"
    assert env["AWS_REGION"] == "ap-northeast-1"
    assert env["S3_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert env["BACKUP_STORAGE_CLASS"] == "STANDARD"
    assert env["BACKUP_RETENTION_DAYS"] == "7"
    assert env["BACKUP_KEEP_COPIES"] == "3"
    assert env["DATABASE_PATH"] == layout.DATABASE_PATH


def test_irsa_annotations_go_on_the_backup_account_only() -> None:
    role = {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/backup"}
    parsed = make_sora_deployment(
        "prod", backup={**BUCKET, "serviceAccount": {"annotations": role}}
    )
    account = backup_service_account(parsed)
    assert account is not None
    assert account["metadata"]["annotations"] == role
    assert account["automountServiceAccountToken"] is False
    cronjob = backup_cronjob(parsed)
    assert cronjob is not None
    assert _pod(cronjob)["serviceAccountName"] == "shop-backup"


def test_a_credentials_secret_becomes_the_environment() -> None:
    pod = _pod(_cronjob(credentials={"secretName": "backup-keys"}))
    assert pod["containers"][0]["envFrom"] == [{"secretRef": {"name": "backup-keys"}}]


def test_cronjob_labels_let_the_operator_find_its_jobs() -> None:
    cronjob = _cronjob()
    labels = cronjob["spec"]["jobTemplate"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "sora-operator"
    assert labels["app.kubernetes.io/instance"] == "shop"
    assert labels["app.kubernetes.io/component"] == "backup"
    assert cronjob_name(make_sora_deployment("prod")) == "shop-backup"


def test_the_restore_job_runs_the_cli_without_affinity() -> None:
    parsed = make_sora_deployment("prod", backup=BUCKET)
    job = restore_job(parsed, Restore("ticket-42", "database/prod/shop-feedback-x.db.gz"))
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"] == [
        "sora-backup",
        "restore",
        "--from",
        "database/prod/shop-feedback-x.db.gz",
    ]
    assert "affinity" not in pod
    assert "initContainers" not in pod
    assert job["spec"]["backoffLimit"] == 0
    assert job["metadata"]["name"] == job_name(parsed, "ticket-42")
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "restore"


def test_restore_job_names_differ_by_request_and_stay_short() -> None:
    parsed = make_sora_deployment("prod", backup=BUCKET)
    first, second = job_name(parsed, "a"), job_name(parsed, "b")
    assert first != second
    assert len(job_name(parsed, "x" * 128)) <= 63
