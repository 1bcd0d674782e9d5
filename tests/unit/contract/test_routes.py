"""One route table: the local gateway and an ALB send every path to the same service."""

from __future__ import annotations

from typing import Any

import pytest

from sora_contract.routes import ADMIN, FEEDBACK_API, FILE_SERVER, service_for
from sora_operator.builders.ingress import ingress
from tests.unit.operator.factories import make_sora_deployment

# Paths on both sides of every rule's edge: prefixes, their extensions, near misses.
PATHS = (
    "/",
    "/api",
    "/api/",
    "/api/extensions",
    "/api/extensions/word-count/download",
    "/api/extensionsfoo",
    "/api/layouts",
    "/api/layouts/dvorak",
    "/api/feedback",
    "/api/feedback/123/hide",
    "/api/recommendations",
    "/api/stats/extension/word-count",
    "/api/statsx",
    "/health",
    "/health/",
    "/healthz",
    "/health/live",
    "/admin",
    "/admin/feedback",
    "/adminx",
    "/metrics",
    "/openapi.json",
    "/apiextensions",
)
SERVICE_NAMES = {
    "shop-file-server": FILE_SERVER,
    "shop-feedback-api": FEEDBACK_API,
    "shop-admin": ADMIN,
}


def _alb_matches(rule: dict[str, Any], path: str) -> bool:
    """The ALB's semantics: ``Exact`` is equality, an ``X*`` pattern matches by prefix."""
    if rule["pathType"] == "Exact":
        return bool(rule["path"] == path)
    assert rule["pathType"] == "ImplementationSpecific"
    assert rule["path"].endswith("*")
    return path.startswith(rule["path"][:-1])


def _alb_service_for(manifest: dict[str, Any], path: str) -> str | None:
    for rule in manifest["spec"]["rules"][0]["http"]["paths"]:
        if _alb_matches(rule, path):
            return SERVICE_NAMES[rule["backend"]["service"]["name"]]
    return None  # the ALB's default action: the fixed 404


@pytest.mark.parametrize("path", PATHS)
def test_the_gateway_routes_every_path_as_the_alb_does(path: str) -> None:
    manifest = ingress(make_sora_deployment("dev", admin={"enabled": True}))
    assert manifest is not None
    assert service_for(path) == _alb_service_for(manifest, path)


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/extensions", FILE_SERVER),
        ("/api/extensions/word-count/download", FILE_SERVER),
        ("/api/layouts", FILE_SERVER),
        ("/health", FILE_SERVER),
        ("/api/feedback", FEEDBACK_API),
        ("/api/feedback/123/hide", FEEDBACK_API),
        ("/api/recommendations", FEEDBACK_API),
        ("/api/stats/extension/word-count", FEEDBACK_API),
        ("/admin", ADMIN),
        ("/admin/feedback", ADMIN),
    ],
)
def test_paths_route_like_the_seed_alb_rules(path: str, service: str) -> None:
    assert service_for(path) == service


@pytest.mark.parametrize(
    "path", ["/", "/api", "/api/", "/metrics", "/openapi.json", "/apiextensions", "/healthz"]
)
def test_unrouted_paths_belong_to_no_service(path: str) -> None:
    assert service_for(path) is None
