"""The admin panel Deployment (``sora-admin``), built only when ``spec.admin.enabled``.

The panel keeps no state: its sessions are HMAC-signed cookies under
SESSION_SECRET, so any replica checks any cookie and several pods roll like
the file server (``maxUnavailable: 0``). It talks to both APIs through their
Services, with the feedback API's ADMIN_TOKEN; its non-secret settings are
few and in the pod's env, so a change to them rolls the panel (no ConfigMap).
"""

from __future__ import annotations

from typing import Any, Final

from sora_contract import layout
from sora_operator.builders import configmap, labels, names, pods
from sora_operator.spec import SoraDeployment

COMPONENT: Final = "admin"


def admin_deployment(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    if not sora_deployment.admin.enabled:
        return None
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": labels.metadata(sora_deployment, names.admin(sora_deployment), COMPONENT),
        "spec": {
            "replicas": sora_deployment.admin.replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": labels.selector_labels(sora_deployment, COMPONENT)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": _pod_template(sora_deployment),
        },
    }


def settings(sora_deployment: SoraDeployment) -> dict[str, str]:
    """The panel's non-secret environment: the shared settings and where both APIs are."""
    return {
        **configmap.shared_settings(sora_deployment),
        "PORT": str(layout.ADMIN_PORT),
        "FEEDBACK_API_URL": names.service_url(
            sora_deployment, names.feedback_api(sora_deployment), layout.FEEDBACK_API_PORT
        ),
        "FILE_SERVER_URL": configmap.file_server_url(sora_deployment),
    }


def _pod_template(sora_deployment: SoraDeployment) -> dict[str, Any]:
    tmp_volume, tmp_mount = pods.tmp_volume()
    plain = settings(sora_deployment)
    pod: dict[str, Any] = {
        "serviceAccountName": names.admin(sora_deployment),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pods.pod_security_context(),
        "terminationGracePeriodSeconds": pods.TERMINATION_GRACE_SECONDS,
        "containers": [_container(sora_deployment, plain, tmp_mount)],
        "volumes": [tmp_volume],
    }
    # The digest the other pods carry for their ConfigMap, here of the plain env.
    return pods.service_pod_template(
        sora_deployment, COMPONENT, pod, configmap.checksum({"data": plain})
    )


def _container(
    sora_deployment: SoraDeployment, plain: dict[str, str], tmp_mount: dict[str, Any]
) -> dict[str, Any]:
    env = [
        *({"name": key, "value": value} for key, value in plain.items()),
        # The feedback API's own token: the panel signs people in with it and sends it on.
        *pods.secret_env(sora_deployment, "ADMIN_TOKEN", "IP_SALT"),
        _session_secret(sora_deployment),
    ]
    return pods.service_container(
        sora_deployment,
        COMPONENT,
        command=layout.ADMIN_COMMAND,
        port=layout.ADMIN_PORT,
        env=env,
        resources=sora_deployment.admin.resources,
        mounts=[tmp_mount],
    )


def _session_secret(sora_deployment: SoraDeployment) -> dict[str, Any]:
    reference = {"name": sora_deployment.admin.session_secret_name, "key": "SESSION_SECRET"}
    return {"name": "SESSION_SECRET", "valueFrom": {"secretKeyRef": reference}}
