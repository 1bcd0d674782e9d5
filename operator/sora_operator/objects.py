"""References to Kubernetes objects and where each kind lives in the API (pure data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class Kind:
    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    def collection_path(self, namespace: str | None) -> str:
        root = group_path(self.api_version)
        if self.namespaced and namespace:
            return f"{root}/namespaces/{namespace}/{self.plural}"
        return f"{root}/{self.plural}"


KINDS: Final[Mapping[str, Kind]] = {
    kind.kind: kind
    for kind in (
        Kind("v1", "ConfigMap", "configmaps"),
        Kind("v1", "Secret", "secrets"),
        Kind("v1", "ServiceAccount", "serviceaccounts"),
        Kind("v1", "Service", "services"),
        Kind("v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
        Kind("apps/v1", "Deployment", "deployments"),
        Kind("networking.k8s.io/v1", "Ingress", "ingresses"),
        Kind("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
        Kind("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
        Kind("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
        Kind("batch/v1", "CronJob", "cronjobs"),
        Kind("batch/v1", "Job", "jobs"),
        Kind("v1", "Pod", "pods"),
        Kind("v1", "Event", "events"),
        Kind("coordination.k8s.io/v1", "Lease", "leases"),
        Kind("sora.example.com/v1alpha1", "SoraDeployment", "soradeployments"),
        Kind("monitoring.coreos.com/v1", "ServiceMonitor", "servicemonitors"),
        Kind("monitoring.coreos.com/v1", "PrometheusRule", "prometheusrules"),
    )
}


def group_path(api_version: str) -> str:
    """The discovery document of one API group version (``/apis/<group>/<version>``)."""
    return f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"


@dataclass(frozen=True)
class ObjectRef:
    kind: str
    namespace: str
    name: str

    @property
    def path(self) -> str:
        return f"{KINDS[self.kind].collection_path(self.namespace)}/{self.name}"

    @property
    def collection_path(self) -> str:
        return KINDS[self.kind].collection_path(self.namespace)

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def ref_of(manifest: Mapping[str, Any]) -> ObjectRef:
    metadata = manifest["metadata"]
    return ObjectRef(manifest["kind"], metadata.get("namespace", ""), metadata["name"])
