"""The Ingress: the seed's ALB listener rules, written for the AWS Load Balancer Controller.

Same order and patterns as the seed's rules (priority 100 file server, 200
feedback API, 300 /health), target type ip, the seed's target group health
check, and its default action, a fixed 404 ``{"error": "Not found"}``. With a
certificate the ALB also listens on 443 and redirects HTTP there. The ALB has no
body-size limit; the feedback API enforces its own 1 MB. With ``spec.admin``
enabled, ``/admin*`` goes to the admin panel, last, as the seed's nginx
``location /admin``; with ``admin.ingress.sourceCidrs`` that ALB rule also needs
the client's address (a source-ip condition), so anyone else gets the 404.
Other ingress classes get the same routes as Prefix paths. The routes are the
table in ``sora_contract.routes``, which the local gateway routes by as well.
"""

from __future__ import annotations

import json
from typing import Any, Final

from sora_contract import layout
from sora_contract.routes import ADMIN_ROUTE, ROUTES, Route
from sora_operator.builders import labels, names
from sora_operator.spec import SoraDeployment

ALB: Final = "alb.ingress.kubernetes.io"
NOT_FOUND_ACTION: Final = "not-found"
NOT_FOUND_BODY: Final = json.dumps({"error": "Not found"})


def ingress(sora_deployment: SoraDeployment) -> dict[str, Any] | None:
    if not sora_deployment.ingress.enabled:
        return None
    paths = [_path(sora_deployment, route) for route in _routes(sora_deployment)]
    rule: dict[str, Any] = {"http": {"paths": paths}}
    if sora_deployment.ingress.host:
        rule["host"] = sora_deployment.ingress.host
    spec: dict[str, Any] = {"ingressClassName": sora_deployment.ingress.class_name, "rules": [rule]}
    if sora_deployment.ingress.is_alb:
        spec["defaultBackend"] = {
            "service": {"name": NOT_FOUND_ACTION, "port": {"name": "use-annotation"}}
        }
    annotations = {**_alb_annotations(sora_deployment), **sora_deployment.ingress.annotations}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": labels.metadata(
            sora_deployment,
            names.ingress(sora_deployment),
            "ingress",
            annotations=annotations or None,
        ),
        "spec": spec,
    }


def _admin_routed(sora_deployment: SoraDeployment) -> bool:
    return sora_deployment.admin.enabled and sora_deployment.admin.ingress.enabled


def _routes(sora_deployment: SoraDeployment) -> tuple[Route, ...]:
    return (*ROUTES, ADMIN_ROUTE) if _admin_routed(sora_deployment) else ROUTES


def _path(sora_deployment: SoraDeployment, route: Route) -> dict[str, Any]:
    service = {
        "file-server": names.file_server,
        "feedback-api": names.feedback_api,
        "admin": names.admin,
    }[route.service](sora_deployment)
    backend = {"service": {"name": service, "port": {"name": layout.HTTP_PORT_NAME}}}
    if not sora_deployment.ingress.is_alb:
        return {"path": route.path, "pathType": "Prefix", "backend": backend}
    if route.exact:
        return {"path": route.path, "pathType": "Exact", "backend": backend}
    return {"path": f"{route.path}*", "pathType": "ImplementationSpecific", "backend": backend}


def _alb_annotations(sora_deployment: SoraDeployment) -> dict[str, str]:
    if not sora_deployment.ingress.is_alb:
        return {}
    annotations = {
        f"{ALB}/scheme": "internet-facing",
        f"{ALB}/target-type": "ip",
        f"{ALB}/healthcheck-path": "/health",
        f"{ALB}/healthcheck-interval-seconds": "30",
        f"{ALB}/healthcheck-timeout-seconds": "5",
        f"{ALB}/healthy-threshold-count": "2",
        f"{ALB}/unhealthy-threshold-count": "2",
        f"{ALB}/success-codes": "200",
        f"{ALB}/actions.{NOT_FOUND_ACTION}": _not_found_action(),
        f"{ALB}/tags": f"Environment={sora_deployment.environment},Application=sora",
        **_listeners(sora_deployment),
        **_admin_conditions(sora_deployment),
    }
    if sora_deployment.environment == "prod":
        # As the seed's enable_deletion_protection = var.environment == "prod".
        annotations[f"{ALB}/load-balancer-attributes"] = "deletion_protection.enabled=true"
    return annotations


def _listeners(sora_deployment: SoraDeployment) -> dict[str, str]:
    if not sora_deployment.ingress.certificate_arn:
        return {f"{ALB}/listen-ports": json.dumps([{"HTTP": 80}])}
    return {
        f"{ALB}/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
        f"{ALB}/certificate-arn": sora_deployment.ingress.certificate_arn,
        f"{ALB}/ssl-redirect": "443",
    }


def _admin_conditions(sora_deployment: SoraDeployment) -> dict[str, str]:
    """Keeps the /admin rule to the given client addresses (named after its Service)."""
    cidrs = sora_deployment.admin.ingress.source_cidrs
    if not (_admin_routed(sora_deployment) and cidrs):
        return {}
    condition = {"field": "source-ip", "sourceIpConfig": {"values": list(cidrs)}}
    return {f"{ALB}/conditions.{names.admin(sora_deployment)}": json.dumps([condition])}


def _not_found_action() -> str:
    return json.dumps(
        {
            "type": "fixed-response",
            "fixedResponseConfig": {
                "contentType": "application/json",
                "statusCode": "404",
                "messageBody": NOT_FOUND_BODY,
            },
        }
    )
