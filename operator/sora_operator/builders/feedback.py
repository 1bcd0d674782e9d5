"""The feedback API: a Deployment of at most one pod with the ``Recreate`` strategy.

SQLite has a single writer. ``Recreate`` stops the old pod (and releases the
ReadWriteOnce volume and the database file) before the new one starts; a
rolling update would briefly run two writers, or hang on the volume attachment.
The claim is a separate object (pvc.py) so it can outlive the Deployment.
"""

from __future__ import annotations

from typing import Any, Final

from sora_contract import layout
from sora_operator.builders import labels, names, pods
from sora_operator.spec import SECRET_KEYS, SoraDeployment

COMPONENT: Final = "feedback-api"


def feedback_api_deployment(
    sora_deployment: SoraDeployment, config_checksum: str
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": labels.metadata(
            sora_deployment, names.feedback_api(sora_deployment), COMPONENT
        ),
        "spec": {
            "replicas": sora_deployment.feedback_api.replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": labels.selector_labels(sora_deployment, COMPONENT)},
            "strategy": {"type": "Recreate"},
            "template": _pod_template(sora_deployment, config_checksum),
        },
    }


def _pod_template(sora_deployment: SoraDeployment, config_checksum: str) -> dict[str, Any]:
    tmp_volume, tmp_mount = pods.tmp_volume()
    database = {
        "name": "database",
        "persistentVolumeClaim": {"claimName": names.database_claim(sora_deployment)},
    }
    pod: dict[str, Any] = {
        "serviceAccountName": names.feedback_api(sora_deployment),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pods.pod_security_context(),
        "terminationGracePeriodSeconds": pods.TERMINATION_GRACE_SECONDS,
        "containers": [
            _container(
                sora_deployment, [tmp_mount, {"name": "database", "mountPath": layout.DATA_DIR}]
            )
        ],
        "volumes": [tmp_volume, database],
    }
    return pods.service_pod_template(sora_deployment, COMPONENT, pod, config_checksum)


def _container(sora_deployment: SoraDeployment, mounts: list[dict[str, Any]]) -> dict[str, Any]:
    return pods.service_container(
        sora_deployment,
        COMPONENT,
        command=layout.FEEDBACK_API_COMMAND,
        port=layout.FEEDBACK_API_PORT,
        env=[
            {"name": "PORT", "value": str(layout.FEEDBACK_API_PORT)},
            *pods.secret_env(sora_deployment, *SECRET_KEYS),
        ],
        resources=sora_deployment.feedback_api.resources,
        mounts=mounts,
        config_map=names.feedback_api(sora_deployment),
    )
