"""One ServiceAccount per component, without an API token.

Separate accounts so that an IAM role for the file server (IRSA annotations,
to read the catalog bucket) is not also granted to the feedback API or the
admin panel. None talks to the Kubernetes API, so no token is mounted.
"""

from __future__ import annotations

from typing import Any

from sora_operator.builders import labels, names
from sora_operator.spec import SoraDeployment


def file_server_service_account(sora: SoraDeployment) -> dict[str, Any]:
    annotations = dict(sora.file_server.service_account_annotations)
    return _service_account(sora, names.file_server(sora), "file-server", annotations)


def feedback_api_service_account(sora: SoraDeployment) -> dict[str, Any]:
    return _service_account(sora, names.feedback_api(sora), "feedback-api", {})


def admin_service_account(sora: SoraDeployment) -> dict[str, Any] | None:
    if not sora.admin.enabled:
        return None
    return _service_account(sora, names.admin(sora), "admin", {})


def _service_account(
    sora: SoraDeployment, name: str, component: str, annotations: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": labels.metadata(sora, name, component, annotations=annotations),
        "automountServiceAccountToken": False,
    }
