"""What a finished Job and its pods say: the result, the reason, the JSON outcome each
``sora-backup`` step leaves in its termination message. Shared by the backup health,
the restore sequence and kubectl-sora."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from sora_operator.builders import labels

JOB_NAME_LABEL: Final = "batch.kubernetes.io/job-name"


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
