"""NetworkPolicies: each service's port is open only to its load balancer and its own platform.

Selecting a component's pods with an Ingress policy denies everything not
listed. The list: this SoraDeployment's own pods (the admin panel and backups),
Prometheus' namespace when ServiceMonitors are on (spec.monitoring.scrapeNamespace)
and, when the Ingress is on, the load balancer's source CIDRs. Pods of other
namespaces are not listed, so the feedback API stays closed to them. With
no CIDRs given the load balancer's address is unknown and the port is open to
any source; the CRD field description says so. The admin panel's port is open
to the load balancer only while its /admin route is on (admin.ingress.enabled).
"""

from __future__ import annotations

from typing import Any

from sora_contract import layout
from sora_operator.builders import labels, names
from sora_operator.spec import SoraDeployment


def file_server_policy(sora_deployment: SoraDeployment) -> dict[str, Any]:
    return _policy(
        sora_deployment, names.file_server(sora_deployment), "file-server", layout.FILE_SERVER_PORT
    )


def feedback_api_policy(sora_deployment: SoraDeployment) -> dict[str, Any]:
    return _policy(
        sora_deployment,
        names.feedback_api(sora_deployment),
        "feedback-api",
        layout.FEEDBACK_API_PORT,
    )


def admin_policy(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    """The load balancer reaches the panel only while /admin is routed (admin.ingress)."""
    if not sora_deployment.admin.enabled:
        return None
    return _policy(
        sora_deployment,
        names.admin(sora_deployment),
        "admin",
        layout.ADMIN_PORT,
        routed=sora_deployment.admin.ingress.enabled,
    )


def _policy(
    sora_deployment: SoraDeployment, name: str, component: str, port: int, *, routed: bool = True
) -> dict[str, Any]:
    rule: dict[str, Any] = {"ports": [{"protocol": "TCP", "port": port}]}
    sources = _sources(sora_deployment, routed)
    if sources is not None:
        rule["from"] = sources
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": labels.metadata(sora_deployment, name, component),
        "spec": {
            "podSelector": {"matchLabels": labels.selector_labels(sora_deployment, component)},
            "policyTypes": ["Ingress"],
            "ingress": [rule],
        },
    }


def _sources(sora_deployment: SoraDeployment, routed: bool) -> list[dict[str, Any]] | None:
    """The admitted peers, or None for "any source" (Ingress on, no CIDRs known).

    ``routed``: whether the Ingress sends anything to this component at all.
    """
    own_pods = {"podSelector": {"matchLabels": labels.instance_labels(sora_deployment)}}
    scrapers = _scrapers(sora_deployment)
    if not (sora_deployment.ingress.enabled and routed):
        return [own_pods, *scrapers]
    if not sora_deployment.ingress.source_cidrs:
        return None
    cidrs = ({"ipBlock": {"cidr": cidr}} for cidr in sora_deployment.ingress.source_cidrs)
    return [own_pods, *scrapers, *cidrs]


def _scrapers(sora_deployment: SoraDeployment) -> list[dict[str, Any]]:
    """Prometheus' namespace, when ServiceMonitors send it to the pods' /metrics."""
    if not sora_deployment.monitoring.service_monitors:
        return []
    namespace = {"kubernetes.io/metadata.name": sora_deployment.monitoring.scrape_namespace}
    return [{"namespaceSelector": {"matchLabels": namespace}}]
