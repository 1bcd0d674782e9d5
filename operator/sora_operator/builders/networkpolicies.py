"""NetworkPolicies: each service's port is open only to its load balancer and its own platform.

Selecting a component's pods with an Ingress policy denies everything not
listed. The list: this SoraDeployment's own pods (the admin panel and backups
to come) and, when the Ingress is on, the load balancer's source CIDRs. Pods of
other namespaces are not listed, so the feedback API stays closed to them. With
no CIDRs given the load balancer's address is unknown and the port is open to
any source; the CRD field description says so.
"""

from __future__ import annotations

from typing import Any

from sora_operator.builders import labels, layout, names
from sora_operator.spec import SoraDeployment


def file_server_policy(sora: SoraDeployment) -> dict[str, Any]:
    return _policy(sora, names.file_server(sora), "file-server", layout.FILE_SERVER_PORT)


def feedback_api_policy(sora: SoraDeployment) -> dict[str, Any]:
    return _policy(sora, names.feedback_api(sora), "feedback-api", layout.FEEDBACK_API_PORT)


def _policy(sora: SoraDeployment, name: str, component: str, port: int) -> dict[str, Any]:
    rule: dict[str, Any] = {"ports": [{"protocol": "TCP", "port": port}]}
    sources = _sources(sora)
    if sources is not None:
        rule["from"] = sources
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": labels.metadata(sora, name, component),
        "spec": {
            "podSelector": {"matchLabels": labels.selector_labels(sora, component)},
            "policyTypes": ["Ingress"],
            "ingress": [rule],
        },
    }


def _sources(sora: SoraDeployment) -> list[dict[str, Any]] | None:
    """The admitted peers, or None for "any source" (Ingress on, no CIDRs known)."""
    own_pods = {"podSelector": {"matchLabels": labels.instance_labels(sora)}}
    if not sora.ingress.enabled:
        return [own_pods]
    if not sora.ingress.source_cidrs:
        return None
    return [own_pods, *({"ipBlock": {"cidr": cidr}} for cidr in sora.ingress.source_cidrs)]
