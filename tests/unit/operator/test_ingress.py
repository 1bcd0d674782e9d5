"""The Ingress reproduces the seed's ALB listener rules."""

from __future__ import annotations

import json
from typing import Any

from sora_operator.builders.ingress import ingress
from tests.unit.operator.factories import make_sora_deployment

ALB = "alb.ingress.kubernetes.io"
CERT = "arn:aws:acm:ap-northeast-1:123456789012:certificate/0a1b2c3d"


def _routes(manifest: dict[str, Any]) -> list[tuple[str, str, str]]:
    paths = manifest["spec"]["rules"][0]["http"]["paths"]
    return [(p["path"], p["pathType"], p["backend"]["service"]["name"]) for p in paths]


def _annotations(**ingress_spec: Any) -> dict[str, str]:
    manifest = ingress(make_sora_deployment("dev", ingress=ingress_spec))
    assert manifest is not None
    annotations: dict[str, str] = manifest["metadata"]["annotations"]
    return annotations


def test_alb_routes_are_the_seeds_path_patterns_in_rule_order() -> None:
    manifest = ingress(make_sora_deployment("dev"))
    assert manifest is not None
    assert _routes(manifest) == [
        ("/api/extensions*", "ImplementationSpecific", "shop-file-server"),
        ("/api/layouts*", "ImplementationSpecific", "shop-file-server"),
        ("/api/feedback*", "ImplementationSpecific", "shop-feedback-api"),
        ("/api/recommendations*", "ImplementationSpecific", "shop-feedback-api"),
        ("/api/stats*", "ImplementationSpecific", "shop-feedback-api"),
        ("/health", "Exact", "shop-file-server"),
    ]


def test_other_ingress_classes_get_prefix_paths_without_alb_annotations() -> None:
    manifest = ingress(make_sora_deployment("dev", ingress={"className": "nginx"}))
    assert manifest is not None
    assert {route[1] for route in _routes(manifest)} == {"Prefix"}
    assert not any(key.startswith(ALB) for key in manifest["metadata"].get("annotations", {}))


def test_alb_targets_pod_ips_and_checks_health_on_the_health_path() -> None:
    annotations = _annotations()
    assert annotations[f"{ALB}/target-type"] == "ip"
    assert annotations[f"{ALB}/healthcheck-path"] == "/health"


def test_alb_health_check_timings_are_the_seeds() -> None:
    annotations = _annotations()
    assert (
        annotations[f"{ALB}/healthcheck-interval-seconds"],
        annotations[f"{ALB}/healthcheck-timeout-seconds"],
        annotations[f"{ALB}/healthy-threshold-count"],
        annotations[f"{ALB}/unhealthy-threshold-count"],
    ) == ("30", "5", "2", "2")


def test_unmatched_requests_get_a_fixed_json_404() -> None:
    manifest = ingress(make_sora_deployment("dev"))
    assert manifest is not None
    backend = manifest["spec"]["defaultBackend"]["service"]
    action = json.loads(manifest["metadata"]["annotations"][f"{ALB}/actions.{backend['name']}"])
    assert backend["port"] == {"name": "use-annotation"}
    assert action["type"] == "fixed-response"
    assert action["fixedResponseConfig"]["statusCode"] == "404"
    assert json.loads(action["fixedResponseConfig"]["messageBody"]) == {"error": "Not found"}


def test_without_a_certificate_the_alb_listens_on_http_only() -> None:
    annotations = _annotations()
    assert json.loads(annotations[f"{ALB}/listen-ports"]) == [{"HTTP": 80}]
    assert f"{ALB}/ssl-redirect" not in annotations


def test_a_certificate_adds_https_and_redirects_http_to_it() -> None:
    annotations = _annotations(host="sora.example.com", certificateArn=CERT)
    assert json.loads(annotations[f"{ALB}/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations[f"{ALB}/certificate-arn"] == CERT
    assert annotations[f"{ALB}/ssl-redirect"] == "443"


def test_host_is_set_on_the_rule() -> None:
    manifest = ingress(make_sora_deployment("dev", ingress={"host": "sora.example.com"}))
    assert manifest is not None
    assert manifest["spec"]["rules"][0]["host"] == "sora.example.com"


def test_extra_annotations_override_the_operators() -> None:
    annotations = _annotations(annotations={f"{ALB}/scheme": "internal"})
    assert annotations[f"{ALB}/scheme"] == "internal"


def test_prod_albs_are_protected_from_deletion_like_the_seeds() -> None:
    manifest = ingress(make_sora_deployment("prod"))
    assert manifest is not None
    attributes = manifest["metadata"]["annotations"][f"{ALB}/load-balancer-attributes"]
    assert attributes == "deletion_protection.enabled=true"


def test_dev_albs_are_not_deletion_protected() -> None:
    assert f"{ALB}/load-balancer-attributes" not in _annotations()


def test_disabled_ingress_builds_nothing() -> None:
    assert ingress(make_sora_deployment("dev", ingress={"enabled": False})) is None


def test_admin_path_is_not_routed_while_the_admin_panel_is_off() -> None:
    manifest = ingress(make_sora_deployment("dev"))
    assert manifest is not None
    assert not any(path.startswith("/admin") for path, _, _ in _routes(manifest))
