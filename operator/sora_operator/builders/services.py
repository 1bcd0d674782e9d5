"""ClusterIP Services on the seed's ports: 3000 (file server), 3001 (feedback API), 3002 (admin).

The ports are named ``http`` and target the container port by name, so the
Ingress and NetworkPolicies never repeat a number.
"""

from __future__ import annotations

from typing import Any

from sora_operator.builders import labels, layout, names
from sora_operator.spec import SoraDeployment


def file_server_service(sora: SoraDeployment) -> dict[str, Any]:
    return _service(sora, names.file_server(sora), "file-server", layout.FILE_SERVER_PORT)


def feedback_api_service(sora: SoraDeployment) -> dict[str, Any]:
    return _service(sora, names.feedback_api(sora), "feedback-api", layout.FEEDBACK_API_PORT)


def admin_service(sora: SoraDeployment) -> dict[str, Any] | None:
    """Only with the admin panel enabled."""
    if not sora.admin.enabled:
        return None
    return _service(sora, names.admin(sora), "admin", layout.ADMIN_PORT)


def _service(sora: SoraDeployment, name: str, component: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": labels.metadata(sora, name, component),
        "spec": {
            "type": "ClusterIP",
            "selector": labels.selector_labels(sora, component),
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
