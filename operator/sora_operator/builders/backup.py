"""The scheduled backup: a CronJob running ``sora-backup create`` then ``prune`` (pure).

The database volume is ReadWriteOnce, so the backup pod must run on the node
where the feedback API pod has it attached: a required pod affinity to that
pod, by hostname. ``create`` reads the live database through SQLite's online
backup API, so the service keeps running.

``create`` is an init container and ``prune`` the main container: no shell is
needed for "create, then prune only if create succeeded", and each step leaves
its own JSON outcome in its own termination message (``BACKUP_RESULT_FILE``
points at ``/dev/termination-log``). The operator reads them from the finished
Job's pod (backups/health.py). ``concurrencyPolicy: Forbid`` keeps two backups from
running at once; ``activeDeadlineSeconds`` makes a stuck backup fail instead of
running forever; ``backoffLimit: 0``: a failed backup is reported, and the next
schedule tries again.

The backups have their own ServiceAccount, so the IAM role that may write the
backup bucket (IRSA annotations) is not also granted to the feedback API.
"""

from __future__ import annotations

from typing import Any, Final

from sora_contract import layout
from sora_operator.builders import labels, names, pods
from sora_operator.builders.pods import SORA_ENV
from sora_operator.spec import SoraDeployment

COMPONENT: Final = "backup"
COMMAND: Final = "sora-backup"
TERMINATION_LOG: Final = "/dev/termination-log"
CREATE_CONTAINER: Final = "create"
PRUNE_CONTAINER: Final = "prune"
HISTORY_LIMIT: Final = 3
TIME_ZONE: Final = "Etc/UTC"
HOSTNAME_TOPOLOGY: Final = "kubernetes.io/hostname"


def cronjob_name(sora_deployment: SoraDeployment) -> str:
    return f"{sora_deployment.name}-backup"


def service_account_name(sora_deployment: SoraDeployment) -> str:
    return f"{sora_deployment.name}-backup"


def backup_service_account(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    """The account backup and restore pods run as; None when no bucket is configured."""
    if not sora_deployment.backup.configured:
        return None
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": labels.metadata(
            sora_deployment,
            service_account_name(sora_deployment),
            COMPONENT,
            annotations=dict(sora_deployment.backup.service_account_annotations),
        ),
        "automountServiceAccountToken": False,
    }


def backup_cronjob(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    """The CronJob, or None when backups are not enabled or are the database's (PostgreSQL)."""
    backup = sora_deployment.backup
    if not backup.enabled or sora_deployment.feedback_api.database.is_postgresql:
        return None
    pod = pod_spec(
        sora_deployment,
        init_containers=[container(sora_deployment, CREATE_CONTAINER, [COMMAND, "create"])],
        containers=[container(sora_deployment, PRUNE_CONTAINER, [COMMAND, "prune"])],
        affinity=feedback_api_affinity(sora_deployment),
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": labels.metadata(sora_deployment, cronjob_name(sora_deployment), COMPONENT),
        "spec": {
            "schedule": backup.schedule,
            "timeZone": TIME_ZONE,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": backup.starting_deadline_seconds,
            "successfulJobsHistoryLimit": HISTORY_LIMIT,
            "failedJobsHistoryLimit": HISTORY_LIMIT,
            "jobTemplate": {
                "metadata": {"labels": labels.common_labels(sora_deployment, COMPONENT)},
                "spec": job_spec(sora_deployment, COMPONENT, pod),
            },
        },
    }


def job_spec(
    sora_deployment: SoraDeployment, component: str, pod: dict[str, Any]
) -> dict[str, Any]:
    """A Job that runs once, fails as a whole, and is stopped at the deadline."""
    return {
        "backoffLimit": 0,
        "activeDeadlineSeconds": sora_deployment.backup.active_deadline_seconds,
        "template": {
            "metadata": {"labels": labels.common_labels(sora_deployment, component)},
            "spec": pod,
        },
    }


def feedback_api_affinity(sora_deployment: SoraDeployment) -> dict[str, Any]:
    """Land on the node where the feedback API pod (and so its RWO volume) is."""
    return {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {
                        "matchLabels": labels.selector_labels(sora_deployment, "feedback-api")
                    },
                    "topologyKey": HOSTNAME_TOPOLOGY,
                }
            ]
        }
    }


def pod_spec(
    sora_deployment: SoraDeployment,
    *,
    init_containers: list[dict[str, Any]],
    containers: list[dict[str, Any]],
    affinity: dict[str, Any] | None,
) -> dict[str, Any]:
    """Hardened like the services' pods, with the feedback API's database volume."""
    tmp_volume, _ = pods.tmp_volume()
    pod: dict[str, Any] = {
        "serviceAccountName": service_account_name(sora_deployment),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "restartPolicy": "Never",
        "securityContext": pods.pod_security_context(),
        "initContainers": init_containers,
        "containers": containers,
        "volumes": [
            tmp_volume,
            {
                "name": "database",
                "persistentVolumeClaim": {"claimName": names.database_claim(sora_deployment)},
            },
        ],
    }
    if affinity:
        pod["affinity"] = affinity
    if sora_deployment.image.pull_secrets:
        pod["imagePullSecrets"] = pods.image_pull_secrets(sora_deployment)
    return pod


def container(sora_deployment: SoraDeployment, name: str, command: list[str]) -> dict[str, Any]:
    """One ``sora-backup`` step, with the same mounts as the feedback API."""
    _, tmp_mount = pods.tmp_volume()
    manifest: dict[str, Any] = {
        "name": name,
        "image": sora_deployment.image.reference,
        "imagePullPolicy": sora_deployment.image.pull_policy,
        "command": command,
        "env": environment(sora_deployment),
        "resources": sora_deployment.feedback_api.resources.as_manifest(),
        "securityContext": pods.container_security_context(),
        "terminationMessagePath": TERMINATION_LOG,
        "terminationMessagePolicy": "File",
        "volumeMounts": [tmp_mount, {"name": "database", "mountPath": layout.DATA_DIR}],
    }
    if sora_deployment.backup.credentials_secret:
        manifest["envFrom"] = [{"secretRef": {"name": sora_deployment.backup.credentials_secret}}]
    return manifest


def environment(sora_deployment: SoraDeployment) -> list[dict[str, str]]:
    """sora-backup's settings (docs/backups.md); credentials come from IRSA or the Secret."""
    backup = sora_deployment.backup
    values = {
        "SORA_ENV": SORA_ENV,
        "SORA_DEPLOYMENT_ENV": sora_deployment.environment,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "DATABASE_PATH": layout.DATABASE_PATH,
        "BACKUP_BUCKET": backup.bucket or "",
        "BACKUP_PREFIX": backup.prefix,
        # The sidecar replicates there and a restore --to-time reads from there: one value.
        "BACKUP_REPLICA_PREFIX": backup.replica_prefix,
        "BACKUP_NAME": f"{sora_deployment.name}-feedback",
        "BACKUP_STORAGE_CLASS": backup.storage_class,
        "BACKUP_RETENTION_DAYS": str(backup.retention_days),
        "BACKUP_KEEP_COPIES": str(backup.keep_copies),
        "BACKUP_RESULT_FILE": TERMINATION_LOG,
    }
    if backup.endpoint:
        values["S3_ENDPOINT_URL"] = backup.endpoint
    if backup.region:
        values["AWS_REGION"] = backup.region
    return [{"name": key, "value": value} for key, value in values.items()]
