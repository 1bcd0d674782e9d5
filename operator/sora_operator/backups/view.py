"""The one read of the cluster per reconcile about backups and restores, and the
status fields it adds (lastBackup, BackupHealthy, replication, restore, lastRestore)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sora_operator import conditions, replication
from sora_operator.backups.health import backup_condition, last_backup
from sora_operator.backups.jobs import JOB_NAME_LABEL, component_selector
from sora_operator.backups.restore import (
    RESTORING,
    SCALING_DOWN,
    RestoreDecision,
    RestoreFacts,
    finish_restore,
    pending_request,
    restore_step,
    volume_holders,
)
from sora_operator.builders import backup as backup_builder
from sora_operator.builders import names
from sora_operator.clock import parse_time
from sora_operator.objects import ObjectRef
from sora_operator.spec import SoraDeployment


class Lister(Protocol):
    def get(self, ref: ObjectRef) -> dict[str, Any] | None: ...

    def list_objects(
        self, kind: str, namespace: str | None, selector: str = "", fields: str = ""
    ) -> list[dict[str, Any]]: ...


def _selector(sora_deployment: SoraDeployment, component: str) -> str:
    return component_selector(sora_deployment.name, component)


@dataclass
class BackupView:
    """What one reconcile read and decided about backups and restores."""

    last_backup: dict[str, Any] | None = None
    cronjob: dict[str, Any] | None = None
    restore: RestoreDecision = field(default_factory=lambda: RestoreDecision(None))
    replication: replication.Reading | None = None


def observe(
    cluster: Lister,
    sora_deployment: SoraDeployment,
    previous: Mapping[str, Any],
    now: str,
    scrape: replication.Scrape = replication.scrape_over_http,
) -> BackupView:
    """Read the backup Jobs, the replication sidecar's lag and, during a restore, the pods
    and the restore Job."""
    view = BackupView()
    if sora_deployment.backup.continuous:
        pods = cluster.list_objects(
            "Pod", sora_deployment.namespace, _selector(sora_deployment, "feedback-api")
        )
        view.replication = replication.observe_replication(pods, scrape)
    if sora_deployment.backup.enabled or previous.get("lastBackup"):
        jobs = cluster.list_objects(
            "Job", sora_deployment.namespace, _selector(sora_deployment, "backup")
        )
        pods = (
            cluster.list_objects(
                "Pod", sora_deployment.namespace, _selector(sora_deployment, "backup")
            )
            if jobs
            else []
        )
        view.last_backup = last_backup(jobs, pods, previous.get("lastBackup"))
        view.cronjob = cluster.get(
            ObjectRef(
                "CronJob", sora_deployment.namespace, backup_builder.cronjob_name(sora_deployment)
            )
        )
    progress = previous.get("restore") or {}
    if progress or pending_request(sora_deployment, previous):
        facts = RestoreFacts()
        phase = progress.get("phase", SCALING_DOWN)
        if phase == SCALING_DOWN:
            pods = cluster.list_objects("Pod", sora_deployment.namespace)
            facts = RestoreFacts(volume_holders(pods, names.database_claim(sora_deployment)))
        elif phase == RESTORING and progress.get("job"):
            job = cluster.get(ObjectRef("Job", sora_deployment.namespace, str(progress["job"])))
            job_pods = cluster.list_objects(
                "Pod", sora_deployment.namespace, f"{JOB_NAME_LABEL}={progress['job']}"
            )
            facts = RestoreFacts(job=job, job_pods=tuple(job_pods))
        view.restore = restore_step(sora_deployment, previous, facts, now)
    return view


def extend_status(
    status: dict[str, Any],
    sora_deployment: SoraDeployment | None,
    view: BackupView | None,
    previous: Mapping[str, Any],
    *,
    feedback_available: bool,
    now: str,
) -> dict[str, Any]:
    """Add lastBackup, BackupHealthy, restore and lastRestore to a computed status."""
    if sora_deployment is None or view is None:
        for key in ("lastBackup", "lastRestore", "restore", "replication"):
            if key in previous:
                status[key] = previous[key]
        return status
    if view.last_backup is not None:
        status["lastBackup"] = view.last_backup
    clock = parse_time(now) or datetime.now(UTC)
    if view.replication is not None:
        status["replication"] = replication.replication_status(
            view.replication, previous.get("replication"), clock
        )
    progress, last = finish_restore(view.restore.progress, feedback_available, now)
    status["restore"] = progress
    if last is not None:
        status["lastRestore"] = last
    elif previous.get("lastRestore"):
        status["lastRestore"] = previous["lastRestore"]
    condition = backup_condition(sora_deployment, view.last_backup, view.cronjob, clock)
    if condition is not None:
        status["conditions"] = [
            *status.get("conditions", []),
            conditions.with_transition_time(
                condition, previous.get("conditions"), status.get("observedGeneration", 0), now
            ),
        ]
    return status
