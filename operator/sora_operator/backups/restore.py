"""The restore sequence (see the package docstring), one step per reconcile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from sora_operator.backups.jobs import job_failure_reason, job_finished, termination_message
from sora_operator.builders import backup as backup_builder
from sora_operator.builders import labels
from sora_operator.builders import restore as restore_builder
from sora_operator.spec import Restore, SoraDeployment

SCALING_DOWN: Final = "ScalingDown"
RESTORING: Final = "Restoring"
SCALING_UP: Final = "ScalingUp"
HOLDING_PHASES: Final = (SCALING_DOWN, RESTORING)


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
    progress.update(restore_result(result, facts.job, facts.job_pods, progress.get("toTime")))
    progress["finishedAt"] = when
    progress["phase"] = SCALING_UP
    return RestoreDecision(progress)


def restore_result(
    result: str,
    job: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    to_time: str | None = None,
) -> dict[str, Any]:
    """The finished Job's result; a moment asked for is named as it was asked (``to_time``)."""
    outcome = None
    for pod in pods:
        outcome = outcome or termination_message(pod, restore_builder.CONTAINER)
    if result == "success":
        facts: dict[str, Any] = {"result": "restored", "message": "Restore Job completed"}
        if outcome and outcome.get("from") == "replica":
            point = to_time or outcome.get("to_time") or "its newest state"
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
