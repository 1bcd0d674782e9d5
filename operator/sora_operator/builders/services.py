"""ClusterIP Services on the seed's ports: 3000 (file server), 3001 (feedback API), 3002 (admin).

The ports are named ``http`` and target the container port by name, so the
Ingress and NetworkPolicies never repeat a number.
"""

from __future__ import annotations

from typing import Any

from sora_contract import layout
from sora_operator.builders import labels, names
from sora_operator.spec import SoraDeployment


def file_server_service(sora_deployment: SoraDeployment) -> dict[str, Any]:
    return _service(
        sora_deployment, names.file_server(sora_deployment), "file-server", layout.FILE_SERVER_PORT
    )


def feedback_api_service(sora_deployment: SoraDeployment) -> dict[str, Any]:
    return _service(
        sora_deployment,
        names.feedback_api(sora_deployment),
        "feedback-api",
        layout.FEEDBACK_API_PORT,
    )


def admin_service(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    """Only with the admin panel enabled."""
    if not sora_deployment.admin.enabled:
        return None
    return _service(sora_deployment, names.admin(sora_deployment), "admin", layout.ADMIN_PORT)


def _service(
    sora_deployment: SoraDeployment, name: str, component: str, port: int
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": labels.metadata(sora_deployment, name, component),
        "spec": {
            "type": "ClusterIP",
            "selector": labels.selector_labels(sora_deployment, component),
            "ports": [
                {
                    "name": layout.HTTP_PORT_NAME,
                    "port": port,
                    "targetPort": layout.HTTP_PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }
