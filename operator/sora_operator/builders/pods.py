"""Pod pieces the services share: hardening, probes, writable paths, secret env.

Hardened as the restricted Pod Security Standard asks: non-root, no privilege
escalation, every capability dropped, seccomp RuntimeDefault, and a read-only
root filesystem with emptyDirs only where the programs write.
"""

from __future__ import annotations

from typing import Any, Final

from sora_contract import layout
from sora_operator.api.v1alpha1 import GROUP
from sora_operator.builders import labels
from sora_operator.spec import Resources, SoraDeployment

#: In a cluster every environment runs the services in production mode: dev and
#: staging differ by size, not by relaxed security (SORA_ENV=development allows
#: weak default secrets).
SORA_ENV: Final = "production"

CONFIG_CHECKSUM_ANNOTATION: Final = f"{GROUP}/config-checksum"
LOG_RETENTION_ANNOTATION: Final = f"{GROUP}/log-retention-days"

#: gunicorn's graceful timeout is 25 s; with the 10 s pre-stop pause that fits in 45 s.
TERMINATION_GRACE_SECONDS: Final = 45
#: The ALB keeps sending to a target for a few seconds after it starts deregistering.
PRE_STOP_PAUSE_SECONDS: Final = 10
TMP_SIZE_LIMIT: Final = "256Mi"


def pod_security_context() -> dict[str, Any]:
    """fsGroup makes the database volume writable by the image's non-root user."""
    return {
        "runAsNonRoot": True,
        "runAsUser": layout.RUN_AS_USER,
        "runAsGroup": layout.RUN_AS_USER,
        "fsGroup": layout.RUN_AS_USER,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
    }


def health_probes() -> dict[str, Any]:
    """Startup allows 60 s (the seed's startPeriod); liveness restarts after 3 x 30 s misses."""
    check = {"httpGet": {"path": "/health", "port": layout.HTTP_PORT_NAME}}
    return {
        "startupProbe": {**check, "periodSeconds": 2, "timeoutSeconds": 2, "failureThreshold": 30},
        "readinessProbe": {
            **check,
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 2,
            "successThreshold": 1,
        },
        "livenessProbe": {**check, "periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 3},
    }


def pre_stop_pause() -> dict[str, Any]:
    """Keep serving while the load balancer deregisters the pod (no shell needed)."""
    return {"preStop": {"sleep": {"seconds": PRE_STOP_PAUSE_SECONDS}}}


def service_container(
    sora_deployment: SoraDeployment,
    component: str,
    *,
    command: str,
    port: int,
    env: list[dict[str, Any]],
    resources: Resources,
    mounts: list[dict[str, Any]],
    config_map: str | None = None,
) -> dict[str, Any]:
    """A service's container: the image's command on its named port, hardened and probed."""
    container: dict[str, Any] = {
        "name": component,
        "image": sora_deployment.image.reference,
        "imagePullPolicy": sora_deployment.image.pull_policy,
        "command": [command],
        "ports": [{"name": layout.HTTP_PORT_NAME, "containerPort": port, "protocol": "TCP"}],
        "env": env,
        "resources": resources.as_manifest(),
        "securityContext": container_security_context(),
        "lifecycle": pre_stop_pause(),
        **health_probes(),
        "volumeMounts": mounts,
    }
    if config_map is not None:
        container["envFrom"] = [{"configMapRef": {"name": config_map}}]
    return container


def secret_env(sora_deployment: SoraDeployment, *keys: str) -> list[dict[str, Any]]:
    secret = sora_deployment.feedback_api.secret_name
    return [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}} for key in keys
    ]


def tmp_volume() -> tuple[dict[str, Any], dict[str, Any]]:
    """(volume, mount) for /tmp: gunicorn's heartbeat files and the metrics directory."""
    volume = {"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}
    return volume, {"name": "tmp", "mountPath": layout.TMP_DIR}


def pod_annotations(sora_deployment: SoraDeployment, config_checksum: str) -> dict[str, str]:
    return {
        CONFIG_CHECKSUM_ANNOTATION: config_checksum,
        LOG_RETENTION_ANNOTATION: str(sora_deployment.log_retention_days),
    }


def image_pull_secrets(sora_deployment: SoraDeployment) -> list[dict[str, str]]:
    return [{"name": name} for name in sora_deployment.image.pull_secrets]


def service_pod_template(
    sora_deployment: SoraDeployment, component: str, spec: dict[str, Any], config_checksum: str
) -> dict[str, Any]:
    """A service's pod template: its labels, the config checksum that rolls it, pull secrets."""
    if sora_deployment.image.pull_secrets:
        spec["imagePullSecrets"] = image_pull_secrets(sora_deployment)
    return {
        "metadata": {
            "labels": labels.common_labels(sora_deployment, component),
            "annotations": pod_annotations(sora_deployment, config_checksum),
        },
        "spec": spec,
    }


def rolling_strategy() -> dict[str, Any]:
    """Stateless services: the desired count keeps serving during a rollout."""
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}


def spread(sora: SoraDeployment, component: str) -> list[dict[str, Any]]:
    """Prefer different zones, then different nodes; never block scheduling for it."""
    selector = {"matchLabels": labels.selector_labels(sora, component)}
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": selector,
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
