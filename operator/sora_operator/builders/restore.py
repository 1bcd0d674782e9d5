"""The restore Job: ``sora-backup restore --from latest|KEY|replica [--to-time T]`` (pure).

Only created once the feedback API is scaled to zero and no pod holds the
volume (backups/restore.py drives the sequence), so it needs no pod affinity: the
ReadWriteOnce volume is free to attach wherever the pod lands. The CLI
verifies the backup before touching the database and keeps the current file as
``feedback.db.before-restore-<timestamp>``; a refused backup leaves the
database as it was. The Job is named after the request id, so asking again
with the same id never starts a second restore.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from sora_operator.api.v1alpha1 import GROUP
from sora_operator.builders import backup, labels
from sora_operator.spec import Restore, SoraDeployment

COMPONENT: Final = "restore"
CONTAINER: Final = "restore"
#: Finished restore Jobs go after a day; the operator reads them within seconds.
TTL_SECONDS_AFTER_FINISHED: Final = 86400
REQUEST_ANNOTATION: Final = f"{GROUP}/restore-request-id"
FROM_ANNOTATION: Final = f"{GROUP}/restore-from"


def job_name(sora_deployment: SoraDeployment, request_id: str) -> str:
    digest = hashlib.sha256(request_id.encode()).hexdigest()[:10]
    return f"{sora_deployment.name}-restore-{digest}"


def restore_job(sora_deployment: SoraDeployment, restore: Restore) -> dict[str, Any]:
    command = [backup.COMMAND, "restore", "--from", restore.source]
    if restore.to_time:
        command += ["--to-time", restore.to_time]
    pod = backup.pod_spec(
        sora_deployment,
        init_containers=[],
        containers=[backup.container(sora_deployment, CONTAINER, command)],
        affinity=None,
    )
    del pod["initContainers"]
    spec = backup.job_spec(sora_deployment, COMPONENT, pod)
    spec["ttlSecondsAfterFinished"] = TTL_SECONDS_AFTER_FINISHED
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": labels.metadata(
            sora_deployment,
            job_name(sora_deployment, restore.request_id),
            COMPONENT,
            annotations={REQUEST_ANNOTATION: restore.request_id, FROM_ANNOTATION: restore.source},
        ),
        "spec": spec,
    }
