"""The Litestream sidecar of the feedback API pod: ``sora-backup replicate`` (pure).

Litestream must read the WAL of the very file the feedback API writes, so it
runs in the same pod on the same volume (a ReadWriteOnce claim admits no other
pod on another node). It is a native sidecar (an init container with
``restartPolicy: Always``): it starts before the feedback API, so no write goes
unreplicated at start-up, and outlives it at shutdown, so its last sync ships
the final writes. Its lag is served on the ``replication`` port, which the
operator reads into ``status.replication``.
"""

from __future__ import annotations

from typing import Any, Final

from sora_contract import layout
from sora_operator.builders import backup, pods
from sora_operator.spec import SoraDeployment

CONTAINER: Final = "replicate"
#: The probe's period; the operator's status and the alert read what it measured.
PROBE_SECONDS: Final = 5
RESOURCES: Final = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}


def replication_container(sora: SoraDeployment) -> dict[str, Any] | None:
    """The sidecar, or None when ``backup.continuous`` is off."""
    if not sora.backup.continuous:
        return None
    _, tmp_mount = pods.tmp_volume()
    env = [
        entry
        for entry in backup.environment(sora)
        if entry["name"] != "BACKUP_RESULT_FILE"  # a long-running process has no outcome
    ]
    env += [
        {"name": "REPLICATION_METRICS_PORT", "value": str(layout.REPLICATION_METRICS_PORT)},
        {"name": "REPLICATION_PROBE_SECONDS", "value": str(PROBE_SECONDS)},
    ]
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": sora.image.reference,
        "imagePullPolicy": sora.image.pull_policy,
        "command": [backup.COMMAND, "replicate"],
        "restartPolicy": "Always",
        "ports": [
            {
                "name": layout.REPLICATION_PORT_NAME,
                "containerPort": layout.REPLICATION_METRICS_PORT,
                "protocol": "TCP",
            }
        ],
        "env": env,
        "resources": RESOURCES,
        "securityContext": pods.container_security_context(),
        "startupProbe": {
            "httpGet": {"path": "/metrics", "port": layout.REPLICATION_PORT_NAME},
            "periodSeconds": 2,
            "failureThreshold": 30,
        },
        "volumeMounts": [tmp_mount, {"name": "database", "mountPath": layout.DATA_DIR}],
    }
    if sora.backup.credentials_secret:
        container["envFrom"] = [{"secretRef": {"name": sora.backup.credentials_secret}}]
    return container
