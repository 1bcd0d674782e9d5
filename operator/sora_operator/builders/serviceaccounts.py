"""One ServiceAccount per component, without an API token.

Separate accounts so that an IAM role for the file server (IRSA annotations,
to read the catalog bucket) is not also granted to the feedback API or the
admin panel. None talks to the Kubernetes API, so no token is mounted.
"""

from __future__ import annotations

from typing import Any

from sora_operator.builders import labels, names
from sora_operator.spec import SoraDeployment


def file_server_service_account(sora_deployment: SoraDeployment) -> dict[str, Any]:
    annotations = dict(sora_deployment.file_server.service_account_annotations)
    return _service_account(
        sora_deployment, names.file_server(sora_deployment), "file-server", annotations
    )


def feedback_api_service_account(sora_deployment: SoraDeployment) -> dict[str, Any]:
    return _service_account(
        sora_deployment, names.feedback_api(sora_deployment), "feedback-api", {}
    )


def admin_service_account(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    if not sora_deployment.admin.enabled:
        return None
    return _service_account(sora_deployment, names.admin(sora_deployment), "admin", {})


def _service_account(
    sora_deployment: SoraDeployment, name: str, component: str, annotations: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": labels.metadata(sora_deployment, name, component, annotations=annotations),
        "automountServiceAccountToken": False,
    }
