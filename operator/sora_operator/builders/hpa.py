"""The file server's HorizontalPodAutoscaler (autoscaling/v2), while autoscaling is on.

Metrics: CPU and memory utilisation of the pods' requests (metrics-server), and
optionally requests per second per pod, a Pods metric a custom metrics adapter
(the Prometheus adapter) serves. Behaviour: stabilisation windows in both
directions, 300 s by default like the seed's cooldowns. The bounds come from
the scaling window in force (schedules.py), computed by the caller from its clock.
"""

from __future__ import annotations

from typing import Any, Final

from sora_operator.builders import labels, names
from sora_operator.schedules import Bounds
from sora_operator.spec import SoraDeployment

COMPONENT: Final = "file-server"


def file_server_autoscaler(
    sora_deployment: SoraDeployment, bounds: Bounds
) -> dict[str, Any] | None:
    """The HPA, or None when autoscaling is off (then the HPA must go)."""
    autoscaling = sora_deployment.file_server.autoscaling
    if not sora_deployment.file_server.autoscaled:
        return None
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": labels.metadata(sora_deployment, names.file_server(sora_deployment), COMPONENT),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": names.file_server(sora_deployment),
            },
            "minReplicas": bounds.min_replicas,
            "maxReplicas": bounds.max_replicas,
            "metrics": _metrics(sora_deployment),
            "behavior": {
                "scaleUp": {
                    "stabilizationWindowSeconds": autoscaling.scale_up_stabilization_seconds
                },
                "scaleDown": {
                    "stabilizationWindowSeconds": autoscaling.scale_down_stabilization_seconds
                },
            },
        },
    }


def _metrics(sora_deployment: SoraDeployment) -> list[dict[str, Any]]:
    autoscaling = sora_deployment.file_server.autoscaling
    metrics: list[dict[str, Any]] = [
        _utilization(resource, target)
        for resource, target in (
            ("cpu", autoscaling.cpu_utilization),
            ("memory", autoscaling.memory_utilization),
        )
        if target
    ]
    rps = autoscaling.requests_per_second
    if rps.enabled:
        metrics.append(
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": rps.metric_name},
                    "target": {"type": "AverageValue", "averageValue": rps.target_per_pod},
                },
            }
        )
    return metrics


def _utilization(resource: str, percent: int) -> dict[str, Any]:
    return {
        "type": "Resource",
        "resource": {
            "name": resource,
            "target": {"type": "Utilization", "averageUtilization": percent},
        },
    }
