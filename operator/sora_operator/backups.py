"""Backups and restores as the operator sees them: Job outcomes into status, the restore sequence.

Pure functions decide; ``observe`` (reads) and ``Reconciler`` (writes) act.

Backups: the CronJob's finished Jobs carry each step's JSON outcome in their
pod's termination messages (builders/backup.py). The newest finished Job
becomes ``status.lastBackup``; the newest success is remembered in
``lastBackup.lastSuccessTime`` (the Job history is short). ``BackupHealthy``
is False when the newest backup failed, or when none succeeded within twice
the schedule's interval.

Restore, a small state machine kept in ``status.restore`` so that it survives
an operator restart, one step per reconcile:

``ScalingDown``  the feedback API is held at 0 replicas; once no pod holds the
                 database volume, the restore Job is created -> ``Restoring``
``Restoring``    held at 0 until the Job finishes (either way) -> ``ScalingUp``
``ScalingUp``    the spec's replicas again; once the feedback API is available,
                 ``status.lastRestore`` records the result and ``restore`` goes.

A failed restore Job leaves the database as it was (the CLI verifies first and
swaps atomically), so the service comes back on the old data, with the reason
in ``lastRestore.message``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from croniter import croniter
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

from sora_operator import replication
from sora_operator.builders import backup as backup_builder
from sora_operator.builders import labels, names
from sora_operator.builders import restore as restore_builder
from sora_operator.objects import ObjectRef
from sora_operator.spec import Restore, SoraDeployment

CONDITION: Final = "BackupHealthy"
#: BackupHealthy's reason when backups are switched off with a bucket configured.
DISABLED_REASON: Final = "BackupsDisabled"
#: BackupHealthy's reason on PostgreSQL: the database takes the backups, not the operator.
BY_DATABASE_REASON: Final = "BackupsByDatabase"
JOB_NAME_LABEL: Final = "batch.kubernetes.io/job-name"
#: How many future firings ``schedule_interval`` looks at to find the longest gap.
INTERVAL_SAMPLES: Final = 64

SCALING_DOWN: Final = "ScalingDown"
RESTORING: Final = "Restoring"
SCALING_UP: Final = "ScalingUp"
HOLDING_PHASES: Final = (SCALING_DOWN, RESTORING)


class Lister(Protocol):
    def get(self, ref: ObjectRef) -> dict[str, Any] | None: ...

    def list_objects(
        self, kind: str, namespace: str | None, selector: str = "", fields: str = ""
    ) -> list[dict[str, Any]]: ...


# -- time -------------------------------------------------------------------------------


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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


# -- backup Jobs into status -------------------------------------------------------------


def job_finished(job: Mapping[str, Any]) -> tuple[str, str] | None:
    """("success" | "failed", when) for a finished Job, else None."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") in ("Complete", "Failed"):
            result = "success" if condition["type"] == "Complete" else "failed"
            when = condition.get("lastTransitionTime") or (job.get("status") or {}).get(
                "completionTime", ""
            )
            return result, str(when)
    return None


def job_failure_reason(job: Mapping[str, Any]) -> str:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            reason = condition.get("reason") or "Failed"
            return f"{reason}: {condition.get('message') or 'the Job failed'}"
    return "the Job failed"


def termination_message(pod: Mapping[str, Any], container: str) -> dict[str, Any] | None:
    """The JSON outcome a ``sora-backup`` step left in its termination message."""
    status = pod.get("status") or {}
    for entry in [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]:
        if entry.get("name") != container:
            continue
        message = ((entry.get("state") or {}).get("terminated") or {}).get("message")
        if not message:
            return None
        try:
            parsed = json.loads(message)
        except ValueError:
            return {"result": "failed", "error": str(message)[:500]}
        return parsed if isinstance(parsed, dict) else None
    return None


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
    return {
        "type": CONDITION,
        "status": "True" if holds else "False",
        "reason": reason,
        "message": message,
    }


# -- restore --------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreFacts:
    """What the cluster shows about a restore in progress."""

    volume_holders: tuple[str, ...] = ()
    job: Mapping[str, Any] | None = None
    job_pods: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class RestoreDecision:
    #: ``status.restore`` to store (None: no restore in progress).
    progress: dict[str, Any] | None
    #: Keep the feedback API at zero replicas this reconcile.
    hold_down: bool = False
    #: Create the restore Job for this request now.
    start_job: Restore | None = None


def pending_request(sora_deployment: SoraDeployment, previous: Mapping[str, Any]) -> Restore | None:
    """The spec's restore request, when it is new (not the last one done nor under way)."""
    request = sora_deployment.restore
    if request is None:
        return None
    done = (previous.get("lastRestore") or {}).get("requestId")
    under_way = (previous.get("restore") or {}).get("requestId")
    if request.request_id in (done, under_way):
        return None
    return request


def restore_step(
    sora_deployment: SoraDeployment, previous: Mapping[str, Any], facts: RestoreFacts, now: str
) -> RestoreDecision:
    """The next step of the restore sequence (see the module docstring)."""
    progress = dict(previous.get("restore") or {})
    if not progress:
        request = pending_request(sora_deployment, previous)
        if request is None:
            return RestoreDecision(None)
        progress = {
            "requestId": request.request_id,
            "from": request.source,
            "phase": SCALING_DOWN,
            "startedAt": now,
            "message": "Scaling the feedback API to zero",
        }
        if request.to_time:
            progress["toTime"] = request.to_time
    phase = progress.get("phase")
    if phase == SCALING_DOWN:
        return _scaling_down(sora_deployment, progress, facts)
    if phase == RESTORING:
        return _restoring(progress, facts)
    return RestoreDecision(progress)  # ScalingUp: finished by ``finish_restore``


def _request(progress: Mapping[str, Any]) -> Restore:
    to_time = progress.get("toTime")
    return Restore(
        str(progress["requestId"]),
        str(progress.get("from") or "latest"),
        str(to_time) if to_time else None,
    )


def _scaling_down(
    sora_deployment: SoraDeployment, progress: dict[str, Any], facts: RestoreFacts
) -> RestoreDecision:
    if facts.volume_holders:
        progress["message"] = (
            f"Waiting for {', '.join(facts.volume_holders)} to release the database volume"
        )
        return RestoreDecision(progress, hold_down=True)
    request = _request(progress)
    progress["phase"] = RESTORING
    progress["job"] = restore_builder.job_name(sora_deployment, request.request_id)
    progress["message"] = f"Restoring from {request.source}" + (
        f" to {request.to_time}" if request.to_time else ""
    )
    return RestoreDecision(progress, hold_down=True, start_job=request)


def _restoring(progress: dict[str, Any], facts: RestoreFacts) -> RestoreDecision:
    if facts.job is None:
        # Not seen yet, or deleted: creating it again by name is harmless (create-only).
        return RestoreDecision(progress, hold_down=True, start_job=_request(progress))
    finished = job_finished(facts.job)
    if finished is None:
        return RestoreDecision(progress, hold_down=True)
    result, when = finished
    progress.update(restore_result(result, facts.job, facts.job_pods))
    progress["finishedAt"] = when
    progress["phase"] = SCALING_UP
    return RestoreDecision(progress)


def restore_result(
    result: str, job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    outcome = None
    for pod in pods:
        outcome = outcome or termination_message(pod, restore_builder.CONTAINER)
    if result == "success":
        facts: dict[str, Any] = {"result": "restored", "message": "Restore Job completed"}
        if outcome and outcome.get("from") == "replica":
            point = outcome.get("to_time") or "its newest state"
            facts["message"] = f"Restored the replica at {point} ({outcome.get('rows')} rows)"
        elif outcome:
            facts["key"] = outcome.get("key")
            facts["message"] = f"Restored {outcome.get('key')} ({outcome.get('rows')} rows)"
        return facts
    reason = (
        f"sora-backup restore: {outcome.get('error')}"
        if outcome and outcome.get("result") == "failed"
        else job_failure_reason(job)
    )
    return {
        "result": "failed",
        "message": f"{reason}. The previous database was left in place.",
    }


def finish_restore(
    progress: Mapping[str, Any] | None, feedback_available: bool, now: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(status.restore, new status.lastRestore): done once the feedback API serves again."""
    if not progress or progress.get("phase") != SCALING_UP:
        return (dict(progress) if progress else None), None
    if not feedback_available:
        waiting = dict(progress)
        waiting["waitingFor"] = "the feedback API to become available"
        return waiting, None
    last = {
        "requestId": progress.get("requestId"),
        "from": progress.get("from"),
        "result": progress.get("result", "failed"),
        "time": now,
        "message": str(progress.get("message", "")),
    }
    for field_name in ("key", "toTime"):
        if progress.get(field_name):
            last[field_name] = progress[field_name]
    return None, last


def held_down(sora_deployment: SoraDeployment) -> SoraDeployment:
    """The same SoraDeployment with the feedback API at zero replicas."""
    return replace(sora_deployment, feedback_api=replace(sora_deployment.feedback_api, replicas=0))


# -- reading the cluster --------------------------------------------------------------


def _selector(sora_deployment: SoraDeployment, component: str) -> str:
    return component_selector(sora_deployment.name, component)


def component_selector(name: str, component: str) -> str:
    """The operator's objects of one component of SoraDeployment ``name`` (kubectl-sora too)."""
    return ",".join(
        f"{key}={value}"
        for key, value in {
            labels.MANAGED_BY: labels.OPERATOR,
            labels.INSTANCE: name,
            labels.COMPONENT: component,
        }.items()
    )


def volume_holders(pods: Sequence[Mapping[str, Any]], claim: str) -> tuple[str, ...]:
    """Unfinished pods that mount the claim, or may soon.

    A backup pod still Pending without a node is left out: its affinity to the
    feedback API pod cannot be met while the API is at zero, so it cannot
    attach the volume before the restore is over. Any other pending pod (a
    feedback API pod the scale-down has not removed yet) still counts.
    """
    holders = []
    for pod in pods:
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            continue
        component = (pod["metadata"].get("labels") or {}).get(labels.COMPONENT)
        if component == backup_builder.COMPONENT and not spec.get("nodeName"):
            continue
        for volume in spec.get("volumes") or []:
            if (volume.get("persistentVolumeClaim") or {}).get("claimName") == claim:
                holders.append(f"pod {pod['metadata']['name']}")
                break
    return tuple(sorted(holders))


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
            _with_transition_time(condition, previous, status.get("observedGeneration", 0), now),
        ]
    return status


def _with_transition_time(
    condition: dict[str, str], previous: Mapping[str, Any], generation: int, now: str
) -> dict[str, Any]:
    old = next(
        (c for c in previous.get("conditions") or [] if c.get("type") == condition["type"]), None
    )
    unchanged = old is not None and old.get("status") == condition["status"]
    transition = old.get("lastTransitionTime") if unchanged and old else None
    return {**condition, "observedGeneration": generation, "lastTransitionTime": transition or now}


# -- metrics ----------------------------------------------------------------------------


def _always_leading() -> bool:
    return True


@dataclass(eq=False)  # a collector: registries key on its identity
class BackupTracker:
    """Backup facts of every SoraDeployment, exported as gauges labelled with its name.

    A collector: each scrape reads the facts the last reconciles recorded. Only the
    leading replica reconciles, so a standby exports no series at all (``leading``)
    rather than stale facts from before it lost the Lease. One series per
    SoraDeployment per gauge: the label values are bounded by the objects in the
    cluster, as kube-state-metrics' are.
    """

    leading: Callable[[], bool] = _always_leading
    _facts: dict[tuple[str, str], tuple[float | None, float | None, bool]] = field(
        default_factory=dict
    )
    _lags: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: tuple[str, str], status: Mapping[str, Any]) -> None:
        entry = status.get("lastBackup") or {}
        success = parse_time(entry.get("lastSuccessTime"))
        failure = parse_time(entry.get("lastFailureTime"))
        condition = next(
            (c for c in status.get("conditions") or [] if c.get("type") == CONDITION), None
        )
        # Switched off by choice: a Warning condition and Event, not a page every night.
        if condition is not None and condition.get("reason") == DISABLED_REASON:
            condition = None
        healthy = None if condition is None else condition.get("status") != "False"
        lag = (status.get("replication") or {}).get("lagSeconds")
        with self._lock:
            if lag is None:
                self._lags.pop(key, None)
            else:
                self._lags[key] = float(lag)
            if not entry and healthy is None:
                self._facts.pop(key, None)  # backups off, nothing ever ran
                return
            self._facts[key] = (
                success.timestamp() if success else None,
                failure.timestamp() if failure else None,
                healthy is not False,
            )

    def forget(self, key: tuple[str, str]) -> None:
        """The SoraDeployment is gone: its series go too."""
        with self._lock:
            self._facts.pop(key, None)
            self._lags.pop(key, None)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        label_names = ["soradeployment_namespace", "soradeployment"]
        age = GaugeMetricFamily(
            "sora_operator_backup_newest_verified_age_seconds",
            "Age of the newest verified backup of a SoraDeployment.",
            labels=label_names,
        )
        failure = GaugeMetricFamily(
            "sora_operator_backup_last_failure_timestamp_seconds",
            "When the most recent failed backup of a SoraDeployment finished (Unix time).",
            labels=label_names,
        )
        healthy = GaugeMetricFamily(
            "sora_operator_backup_healthy",
            "1 while the BackupHealthy condition of a SoraDeployment is True, else 0.",
            labels=label_names,
        )
        lagging = GaugeMetricFamily(
            "sora_operator_replication_lag_seconds",
            "How far the continuous replica of a SoraDeployment is behind (status.replication).",
            labels=label_names,
        )
        if self.leading():
            now = time.time()
            with self._lock:
                facts = sorted(self._facts.items())
                lags = sorted(self._lags.items())
            for (namespace, name), lag in lags:
                lagging.add_metric([namespace, name], lag)
            for (namespace, name), (success, failed, is_healthy) in facts:
                labels = [namespace, name]
                if success is not None:
                    age.add_metric(labels, now - success)
                if failed is not None:
                    failure.add_metric(labels, failed)
                healthy.add_metric(labels, 1.0 if is_healthy else 0.0)
        yield from (age, failure, healthy, lagging)

    def register(self, registry: CollectorRegistry) -> None:
        registry.register(self)


# -- events ---------------------------------------------------------------------------


def backup_events(
    patch: Mapping[str, Any], status: Mapping[str, Any]
) -> list[tuple[bool, str, str]]:
    """(warning, reason, message) Events for what a status write says happened.

    One per new failed backup Job (``lastBackup.job`` changed), one per restore
    phase reached, one per finished restore.
    """
    events: list[tuple[bool, str, str]] = []
    entry = status.get("lastBackup") or {}
    if "job" in (patch.get("lastBackup") or {}) and entry.get("result") == "failed":
        events.append(
            (True, "BackupFailed", f"Backup Job {entry.get('job')}: {entry.get('message')}")
        )
    progress = status.get("restore") or {}
    if "phase" in (patch.get("restore") or {}) and progress:
        events.append((False, f"Restore{progress['phase']}", str(progress.get("message", ""))))
    last = status.get("lastRestore") or {}
    if "requestId" in (patch.get("lastRestore") or {}) or (
        "time" in (patch.get("lastRestore") or {})
    ):
        failed = last.get("result") != "restored"
        reason = "RestoreFailed" if failed else "RestoreSucceeded"
        events.append((failed, reason, f"{last.get('requestId')}: {last.get('message')}"))
    return events
