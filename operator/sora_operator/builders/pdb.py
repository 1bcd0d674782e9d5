"""PodDisruptionBudgets: keep one file server during voluntary disruptions, never block drains.

With more than one file server, at least one stays up while nodes drain. A
single pod gets no budget: ``minAvailable: 1`` would block every drain forever,
and anything looser protects nothing. An autoscaled file server may run one pod
or several (a night window may allow 1), so its budget is ``maxUnavailable: 1``:
with several pods one at a time goes and at least one stays; with a single pod
the drain proceeds. For the same reason the
feedback API (always one pod) has none. Unhealthy pods may always be evicted,
so a broken pod never holds a drain.
"""

from __future__ import annotations

from typing import Any

from sora_operator.builders import labels, names
from sora_operator.spec import SoraDeployment


def file_server_budget(sora: SoraDeployment) -> dict[str, Any] | None:
    if not sora.file_server.autoscaled and sora.file_server.replicas <= 1:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": labels.metadata(sora, names.file_server(sora), "file-server"),
        "spec": {
            **({"maxUnavailable": 1} if sora.file_server.autoscaled else {"minAvailable": 1}),
            "selector": {"matchLabels": labels.selector_labels(sora, "file-server")},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }
