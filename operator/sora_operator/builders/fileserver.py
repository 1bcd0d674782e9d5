"""The file server Deployment: stateless, so several replicas roll without a gap.

``maxUnavailable: 0`` keeps the desired count serving during a rollout; pods
spread over nodes and zones when there is more than one. ``replicas`` is left
out while an autoscaler owns it, so the operator never fights the HPA.
"""

from __future__ import annotations

from typing import Any, Final

from sora_contract import layout
from sora_operator.builders import labels, names, pods
from sora_operator.spec import LocalStorage, SoraDeployment

COMPONENT: Final = "file-server"
#: The cache directory may briefly exceed CACHE_MAX_BYTES while a package is written.
CACHE_HEADROOM: Final = 1.25
SAMPLE_CATALOG_SCRIPT: Final = (
    "import sys, pathlib; from sora.fileserver.sample import create_sample_catalog; "
    "create_sample_catalog(pathlib.Path(sys.argv[1]))"
)


def file_server_deployment(sora_deployment: SoraDeployment, config_checksum: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": labels.selector_labels(sora_deployment, COMPONENT)},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        },
        "template": _pod_template(sora_deployment, config_checksum),
    }
    if not sora_deployment.file_server.autoscaled:
        spec["replicas"] = sora_deployment.file_server.replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": labels.metadata(sora_deployment, names.file_server(sora_deployment), COMPONENT),
        "spec": spec,
    }


def _pod_template(sora_deployment: SoraDeployment, config_checksum: str) -> dict[str, Any]:
    volumes, mounts = _volumes(sora_deployment)
    pod: dict[str, Any] = {
        "serviceAccountName": names.file_server(sora_deployment),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pods.pod_security_context(),
        "terminationGracePeriodSeconds": pods.TERMINATION_GRACE_SECONDS,
        "topologySpreadConstraints": _spread(sora_deployment),
        "containers": [_container(sora_deployment, mounts)],
        "volumes": volumes,
    }
    if (
        isinstance(sora_deployment.file_server.storage, LocalStorage)
        and not sora_deployment.file_server.storage.claim_name
    ):
        pod["initContainers"] = [_sample_catalog_container(sora_deployment)]
    return pods.service_pod_template(sora_deployment, COMPONENT, pod, config_checksum)


def _container(sora_deployment: SoraDeployment, mounts: list[dict[str, Any]]) -> dict[str, Any]:
    return pods.service_container(
        sora_deployment,
        COMPONENT,
        command=layout.FILE_SERVER_COMMAND,
        port=layout.FILE_SERVER_PORT,
        env=[
            {"name": "PORT", "value": str(layout.FILE_SERVER_PORT)},
            *pods.secret_env(sora_deployment, "IP_SALT"),
        ],
        resources=sora_deployment.file_server.resources,
        mounts=mounts,
        config_map=names.file_server(sora_deployment),
    )


def _sample_catalog_container(sora_deployment: SoraDeployment) -> dict[str, Any]:
    """Writes the image's sample catalog into the catalog emptyDir before the server starts."""
    return {
        "name": "sample-catalog",
        "image": sora_deployment.image.reference,
        "imagePullPolicy": sora_deployment.image.pull_policy,
        "command": ["python", "-c", SAMPLE_CATALOG_SCRIPT, layout.CATALOG_DIR],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "128Mi"},
        },
        "securityContext": pods.container_security_context(),
        "volumeMounts": [{"name": "catalog", "mountPath": layout.CATALOG_DIR}],
    }


def _volumes(sora_deployment: SoraDeployment) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tmp_volume, tmp_mount = pods.tmp_volume()
    cache_limit = f"{int(sora_deployment.file_server.cache_bytes * CACHE_HEADROOM) // 1024**2}Mi"
    volumes = [tmp_volume, {"name": "cache", "emptyDir": {"sizeLimit": cache_limit}}]
    mounts = [tmp_mount, {"name": "cache", "mountPath": layout.CACHE_DIR}]
    storage = sora_deployment.file_server.storage
    if isinstance(storage, LocalStorage):
        volumes.append(_catalog_volume(storage))
        mount: dict[str, Any] = {"name": "catalog", "mountPath": layout.CATALOG_DIR}
        if storage.claim_name:
            mount["readOnly"] = True  # the API server drops a false readOnly: never write it
        mounts.append(mount)
    return volumes, mounts


def _catalog_volume(storage: LocalStorage) -> dict[str, Any]:
    if storage.claim_name:
        claim = {"claimName": storage.claim_name, "readOnly": True}
        return {"name": "catalog", "persistentVolumeClaim": claim}
    return {"name": "catalog", "emptyDir": {"sizeLimit": "256Mi"}}


def _spread(sora_deployment: SoraDeployment) -> list[dict[str, Any]]:
    """Prefer different zones, then different nodes; never block scheduling for it."""
    selector = {"matchLabels": labels.selector_labels(sora_deployment, COMPONENT)}
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": selector,
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
