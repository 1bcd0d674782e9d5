"""The backup Jobs into ``status.lastBackup``, and the ``BackupHealthy`` condition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from croniter import croniter

from sora_operator import conditions
from sora_operator.backups.jobs import (
    JOB_NAME_LABEL,
    job_failure_reason,
    job_finished,
    termination_message,
)
from sora_operator.builders import backup as backup_builder
from sora_operator.clock import parse_time
from sora_operator.spec import SoraDeployment

CONDITION: Final = "BackupHealthy"
#: BackupHealthy's reason when backups are switched off with a bucket configured.
DISABLED_REASON: Final = "BackupsDisabled"
#: BackupHealthy's reason on PostgreSQL: the database takes the backups, not the operator.
BY_DATABASE_REASON: Final = "BackupsByDatabase"
#: How many future firings ``schedule_interval`` looks at to find the longest gap.
INTERVAL_SAMPLES: Final = 64


def schedule_interval(schedule: str, start: datetime) -> float:
    """The longest gap, in seconds, between the next firings of a cron schedule."""
    iterator = croniter(schedule, start)
    previous = iterator.get_next(datetime)
    longest = 0.0
    for _ in range(INTERVAL_SAMPLES):
        following = iterator.get_next(datetime)
        longest = max(longest, (following - previous).total_seconds())
        previous = following
    return longest


def backup_outcome(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One finished backup Job as ``status.lastBackup`` (without lastSuccessTime)."""
    finished = job_finished(job)
    assert finished is not None
    result, when = finished
    entry: dict[str, Any] = {"job": job["metadata"]["name"], "time": when, "result": result}
    create = prune = None
    for pod in pods:
        create = create or termination_message(pod, backup_builder.CREATE_CONTAINER)
        prune = prune or termination_message(pod, backup_builder.PRUNE_CONTAINER)
    if create and create.get("result") == "success":
        for key in ("key", "size", "rows", "verified", "sha256"):
            if key in create:
                entry[key] = create[key]
    if prune and prune.get("result") == "pruned":
        entry["pruned"] = len(prune.get("deleted") or [])
    if result == "failed":
        for step in (create, prune):
            if step and step.get("result") == "failed":
                entry["message"] = f"{step.get('command', 'sora-backup')}: {step.get('error')}"
                break
        else:
            entry["message"] = job_failure_reason(job)
    return entry


def last_backup(
    jobs: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    previous: Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    """``status.lastBackup`` from the backup Jobs still kept, and what the status knew."""
    finished = [(job_finished(job), job) for job in jobs]
    done = sorted(
        ((when, result, job) for info, job in finished if info for result, when in [info]),
        key=lambda item: parse_time(item[0]) or datetime.min.replace(tzinfo=UTC),
    )
    previous = previous or {}
    success_times = [when for when, result, _ in done if result == "success"]
    failure_times = [when for when, result, _ in done if result == "failed"]
    last_success = _latest([*success_times, previous.get("lastSuccessTime")])
    last_failure = _latest([*failure_times, previous.get("lastFailureTime")])
    if not done:
        if not previous:
            return None
        entry = dict(previous)
    else:
        _, _, newest = done[-1]
        name = newest["metadata"]["name"]
        own_pods = [
            p for p in pods if (p["metadata"].get("labels") or {}).get(JOB_NAME_LABEL) == name
        ]
        entry = backup_outcome(newest, own_pods)
    if last_success:
        entry["lastSuccessTime"] = last_success
    if last_failure:
        entry["lastFailureTime"] = last_failure
    return entry


def _latest(values: Sequence[object]) -> str | None:
    known = [(parse_time(v), str(v)) for v in values if parse_time(v) is not None]
    return max(known)[1] if known else None


def backup_condition(
    sora_deployment: SoraDeployment,
    entry: Mapping[str, Any] | None,
    cronjob: Mapping[str, Any] | None,
    now: datetime,
) -> dict[str, str] | None:
    """BackupHealthy, or None when backups are off and no bucket is configured."""
    if sora_deployment.feedback_api.database.is_postgresql:
        return _condition(
            True,
            BY_DATABASE_REASON,
            "The feedback API's data is in PostgreSQL: backups and point-in-time recovery are"
            " the database's (RDS automated backups); the operator runs no sora-backup CronJob",
        )
    if sora_deployment.backup.disabled_by_choice:
        return _condition(
            False,
            DISABLED_REASON,
            f"Backups are off (spec.backup.enabled: false) although bucket "
            f"{sora_deployment.backup.bucket!r} is configured: a lost volume loses every rating "
            "and comment. Remove enabled: false to take them.",
        )
    return (
        _scheduled_backup_condition(sora_deployment, entry, cronjob, now)
        if sora_deployment.backup.enabled
        else None
    )


def _scheduled_backup_condition(
    sora_deployment: SoraDeployment,
    entry: Mapping[str, Any] | None,
    cronjob: Mapping[str, Any] | None,
    now: datetime,
) -> dict[str, str]:
    if entry and entry.get("result") == "failed":
        return _condition(
            False, "BackupFailed", f"The last backup failed: {entry.get('message', '')}"
        )
    allowed = 2 * schedule_interval(sora_deployment.backup.schedule, now)
    success = parse_time((entry or {}).get("lastSuccessTime"))
    if success is not None:
        age = (now - success).total_seconds()
        if age > allowed:
            return _condition(
                False,
                "BackupOverdue",
                f"The newest successful backup finished at {entry_time(entry)}; the "
                f"schedule {sora_deployment.backup.schedule!r} allows {_hours(allowed)} "
                "between backups",
            )
        key = (entry or {}).get("key", "")
        return _condition(True, "BackupSucceeded", f"Last backup {key}".strip())
    since = parse_time(((cronjob or {}).get("metadata") or {}).get("creationTimestamp"))
    if since is not None and (now - since).total_seconds() > allowed:
        return _condition(
            False,
            "NoBackup",
            f"No backup succeeded in {_hours(allowed)} (twice the schedule's interval)",
        )
    return {
        "type": CONDITION,
        "status": "Unknown",
        "reason": "AwaitingFirstBackup",
        "message": f"The first backup runs on the schedule {sora_deployment.backup.schedule!r}",
    }


def entry_time(entry: Mapping[str, Any] | None) -> str:
    return str((entry or {}).get("lastSuccessTime", "never"))


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def _condition(holds: bool, reason: str, message: str) -> dict[str, str]:
    return conditions.condition(CONDITION, holds, reason, message)
