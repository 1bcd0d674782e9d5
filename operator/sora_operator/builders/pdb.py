"""PodDisruptionBudgets: keep one pod of a service during voluntary disruptions, never block drains.

With more than one file server, at least one stays up while nodes drain. A
single pod gets no budget: ``minAvailable: 1`` would block every drain forever,
and anything looser protects nothing. An autoscaled file server may run one pod
or several (a night window may allow 1), so its budget is ``maxUnavailable: 1``:
with several pods one at a time goes and at least one stays; with a single pod
the drain proceeds. The admin panel, with several pods, keeps one as the file
server does. For the same reason the feedback API (always one pod) has none.
Unhealthy pods may always be evicted, so a broken pod never holds a drain.
"""

from __future__ import annotations

from typing import Any

from sora_operator.builders import labels, names
from sora_operator.spec import SoraDeployment


def file_server_budget(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    if not sora_deployment.file_server.autoscaled and sora_deployment.file_server.replicas <= 1:
        return None
    limit = {"maxUnavailable": 1} if sora_deployment.file_server.autoscaled else {"minAvailable": 1}
    return _budget(sora_deployment, names.file_server(sora_deployment), "file-server", limit)


def admin_budget(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    """Several admin panel pods: one stays while nodes drain (one pod: no budget)."""
    if not sora_deployment.admin.enabled or sora_deployment.admin.replicas <= 1:
        return None
    return _budget(sora_deployment, names.admin(sora_deployment), "admin", {"minAvailable": 1})


def _budget(
    sora_deployment: SoraDeployment, name: str, component: str, limit: dict[str, int]
) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": labels.metadata(sora_deployment, name, component),
        "spec": {
            **limit,
            "selector": {"matchLabels": labels.selector_labels(sora_deployment, component)},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }
