"""The whole desired state of one SoraDeployment: what to apply, in order, and what must go.

Order matters only for a first install: accounts and settings before the pods
that use them, the database claim before the pod that mounts it. Optional
children the spec turns off (the Ingress, the PodDisruptionBudget, the
HorizontalPodAutoscaler, the monitoring objects...) are listed as absent so that
turning them off removes them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sora_operator.builders import (
    admin,
    backup,
    configmap,
    feedback,
    fileserver,
    hpa,
    ingress,
    monitoring,
    names,
    networkpolicies,
    pdb,
    pvc,
    serviceaccounts,
    services,
)
from sora_operator.monitoring import PROMETHEUS_OPERATOR_KINDS
from sora_operator.objects import ObjectRef
from sora_operator.schedules import Bounds
from sora_operator.spec import SoraDeployment


@dataclass(frozen=True)
class DesiredState:
    manifests: tuple[dict[str, Any], ...]
    absent: tuple[ObjectRef, ...]


def desired_state(
    sora_deployment: SoraDeployment,
    bounds: Bounds | None = None,
    served: Collection[str] = PROMETHEUS_OPERATOR_KINDS,
) -> DesiredState:
    """``bounds``: the autoscaler's bounds now (schedules.bounds); the base bounds if None.

    ``served``: the Prometheus Operator kinds the cluster has; the others are left
    out entirely (neither applied nor deleted: the API would refuse both).
    """
    scaling = sora_deployment.file_server.autoscaling
    bounds = bounds or Bounds(scaling.min_replicas, scaling.max_replicas)
    file_server_config = configmap.file_server_configmap(sora_deployment)
    feedback_api_config = configmap.feedback_api_configmap(sora_deployment)
    optional = {
        ObjectRef(
            "PodDisruptionBudget", sora_deployment.namespace, names.file_server(sora_deployment)
        ): (pdb.file_server_budget(sora_deployment)),
        ObjectRef(
            "PodDisruptionBudget", sora_deployment.namespace, names.admin(sora_deployment)
        ): pdb.admin_budget(sora_deployment),
        ObjectRef(
            "Ingress", sora_deployment.namespace, names.ingress(sora_deployment)
        ): ingress.ingress(sora_deployment),
        ObjectRef(
            "HorizontalPodAutoscaler", sora_deployment.namespace, names.file_server(sora_deployment)
        ): (hpa.file_server_autoscaler(sora_deployment, bounds)),
        ObjectRef(
            "ServiceAccount",
            sora_deployment.namespace,
            backup.service_account_name(sora_deployment),
        ): (backup.backup_service_account(sora_deployment)),
        ObjectRef(
            "CronJob", sora_deployment.namespace, backup.cronjob_name(sora_deployment)
        ): backup.backup_cronjob(sora_deployment),
    }
    optional.update(_monitoring_children(sora_deployment, served))
    optional.update(_admin_children(sora_deployment))
    manifests = (
        serviceaccounts.file_server_service_account(sora_deployment),
        serviceaccounts.feedback_api_service_account(sora_deployment),
        file_server_config,
        feedback_api_config,
        pvc.database_claim(sora_deployment),
        services.file_server_service(sora_deployment),
        services.feedback_api_service(sora_deployment),
        fileserver.file_server_deployment(sora_deployment, configmap.checksum(file_server_config)),
        feedback.feedback_api_deployment(sora_deployment, configmap.checksum(feedback_api_config)),
        networkpolicies.file_server_policy(sora_deployment),
        networkpolicies.feedback_api_policy(sora_deployment),
        *(manifest for manifest in optional.values() if manifest is not None),
    )
    absent = tuple(ref for ref, manifest in optional.items() if manifest is None)
    return DesiredState(manifests=manifests, absent=absent)


def _monitoring_children(
    sora_deployment: SoraDeployment, served: Collection[str]
) -> dict[ObjectRef, dict[str, Any] | None]:
    children: dict[ObjectRef, dict[str, Any] | None] = {
        ObjectRef("ConfigMap", sora_deployment.namespace, names.dashboard(sora_deployment)): (
            monitoring.dashboard_configmap(sora_deployment)
        )
    }
    if "ServiceMonitor" in served:
        built = {m["metadata"]["name"]: m for m in monitoring.service_monitors(sora_deployment)}
        for name in monitoring.service_monitor_names(sora_deployment):
            children[ObjectRef("ServiceMonitor", sora_deployment.namespace, name)] = built.get(name)
    if "PrometheusRule" in served:
        rule = ObjectRef(
            "PrometheusRule", sora_deployment.namespace, names.prometheus_rule(sora_deployment)
        )
        children[rule] = monitoring.prometheus_rule(sora_deployment)
    return children


def _admin_children(sora_deployment: SoraDeployment) -> dict[ObjectRef, dict[str, Any] | None]:
    """The admin panel's objects, account first; all absent while spec.admin is off.

    Its Secret is not here: it is created once by the reconcile (never applied), and
    kept when the panel is turned off, so turning it on again keeps the sessions' key.
    """
    name = names.admin(sora_deployment)
    return {
        ObjectRef("ServiceAccount", sora_deployment.namespace, name): (
            serviceaccounts.admin_service_account(sora_deployment)
        ),
        ObjectRef("Service", sora_deployment.namespace, name): services.admin_service(
            sora_deployment
        ),
        ObjectRef("Deployment", sora_deployment.namespace, name): admin.admin_deployment(
            sora_deployment
        ),
        ObjectRef("NetworkPolicy", sora_deployment.namespace, name): networkpolicies.admin_policy(
            sora_deployment
        ),
    }
