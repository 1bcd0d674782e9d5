"""The feedback API's Deployment, as its database engine allows.

SQLite: at most one pod with the ``Recreate`` strategy. SQLite has a single
writer; ``Recreate`` stops the old pod (and releases the ReadWriteOnce volume
and the database file) before the new one starts; a rolling update would
briefly run two writers, or hang on the volume attachment. The claim is a
separate object (pvc.py) so it can outlive the Deployment.

PostgreSQL: stateless, like the file server: several replicas spread over zones
and nodes, rolling with ``maxUnavailable: 0``, ``replicas`` left to the HPA
while autoscaling is on, no volume, ``DATABASE_URL`` from the user's Secret.
"""

from __future__ import annotations

from typing import Any, Final

from sora_contract import layout
from sora_operator.builders import backup, labels, names, pods, replication
from sora_operator.spec import SECRET_KEYS, SoraDeployment

COMPONENT: Final = "feedback-api"


def feedback_api_deployment(
    sora_deployment: SoraDeployment, config_checksum: str
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": labels.selector_labels(sora_deployment, COMPONENT)},
        "strategy": (
            pods.rolling_strategy()
            if sora_deployment.feedback_api.database.is_postgresql
            else {"type": "Recreate"}
        ),
        "template": _pod_template(sora_deployment, config_checksum),
    }
    if not sora_deployment.feedback_api.autoscaled:
        spec["replicas"] = sora_deployment.feedback_api.replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": labels.metadata(
            sora_deployment, names.feedback_api(sora_deployment), COMPONENT
        ),
        "spec": spec,
    }


def _pod_template(sora_deployment: SoraDeployment, config_checksum: str) -> dict[str, Any]:
    tmp_volume, tmp_mount = pods.tmp_volume()
    volumes, mounts = [tmp_volume], [tmp_mount]
    if not sora_deployment.feedback_api.database.is_postgresql:
        volumes.append(
            {
                "name": "database",
                "persistentVolumeClaim": {"claimName": names.database_claim(sora_deployment)},
            }
        )
        mounts.append({"name": "database", "mountPath": layout.DATA_DIR})
    sidecar = replication.replication_container(sora_deployment)
    pod: dict[str, Any] = {
        # The sidecar writes the bucket: with it, the pod runs as the backups' account
        # (the IRSA role of the bucket); without it, the feedback API has no AWS rights.
        "serviceAccountName": backup.service_account_name(sora_deployment)
        if sidecar
        else names.feedback_api(sora_deployment),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pods.pod_security_context(),
        "terminationGracePeriodSeconds": pods.TERMINATION_GRACE_SECONDS,
        "containers": [_container(sora_deployment, mounts)],
        "volumes": volumes,
    }
    if sidecar:
        pod["initContainers"] = [sidecar]
    if sora_deployment.feedback_api.database.is_postgresql:
        pod["topologySpreadConstraints"] = pods.spread(sora_deployment, COMPONENT)
    return pods.service_pod_template(sora_deployment, COMPONENT, pod, config_checksum)


def _database_url_env(sora_deployment: SoraDeployment) -> list[dict[str, Any]]:
    ref = sora_deployment.feedback_api.database.url_secret
    if not sora_deployment.feedback_api.database.is_postgresql or ref is None:
        return []
    return [
        {
            "name": "DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}},
        }
    ]


def _container(sora_deployment: SoraDeployment, mounts: list[dict[str, Any]]) -> dict[str, Any]:
    return pods.service_container(
        sora_deployment,
        COMPONENT,
        command=layout.FEEDBACK_API_COMMAND,
        port=layout.FEEDBACK_API_PORT,
        env=[
            {"name": "PORT", "value": str(layout.FEEDBACK_API_PORT)},
            *pods.secret_env(sora_deployment, *SECRET_KEYS),
            *_database_url_env(sora_deployment),
        ],
        resources=sora_deployment.feedback_api.resources,
        mounts=mounts,
        config_map=names.feedback_api(sora_deployment),
    )
