"""The admin panel on the real control plane: turned on, counted in Ready, turned off again."""

from __future__ import annotations

from typing import Any

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.conftest import StartOperator
from tests.integration.operator.support import condition, is_ready, sora_deployment
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for

NAME = "shop"


def _apply(kube_cluster: KubeCluster, namespace: str, admin: dict[str, Any]) -> None:
    kube_cluster.apply(sora_deployment(NAME, namespace, {"environment": "dev", "admin": admin}))


def _admin_paths(admin: KubeClient, namespace: str) -> list[str]:
    found = admin.get(ObjectRef("Ingress", namespace, NAME)) or {}
    rules = found.get("spec", {}).get("rules") or [{}]
    paths = rules[0].get("http", {}).get("paths", [])
    return [p["path"] for p in paths if p["backend"]["service"]["name"] == f"{NAME}-admin"]


def _current_and_ready(admin: KubeClient, namespace: str) -> dict[str, Any] | None:
    """The SoraDeployment once Ready for its latest generation, else None."""
    body = admin.get(ObjectRef("SoraDeployment", namespace, NAME))
    return body if is_ready(body) else None


def test_admin_panel_is_created_counted_in_ready_and_removed_when_turned_off(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    start_operator(kube_namespace)
    _apply(kube_cluster, kube_namespace, {"enabled": True})
    children = [
        ObjectRef(kind, kube_namespace, f"{NAME}-admin")
        for kind in ("ServiceAccount", "Service", "Deployment", "NetworkPolicy")
    ]
    secret = ObjectRef("Secret", kube_namespace, f"{NAME}-admin-secrets")

    body = wait_for(
        lambda: _current_and_ready(admin, kube_namespace), 90, "Ready with the admin panel"
    )
    # Ready covers the panel: its pod counts are part of the status it was computed from.
    assert body["status"]["admin"]["ready"] == "1/1"
    assert body["status"]["endpoints"]["admin"].endswith(f".{kube_namespace}.svc:3002")
    assert all(admin.get(ref) for ref in children)
    session = admin.get(secret)
    assert session is not None
    assert set(session["data"]) == {"SESSION_SECRET"}
    assert _admin_paths(admin, kube_namespace) == ["/admin*"]

    _apply(kube_cluster, kube_namespace, {"enabled": False})
    wait_for(
        lambda: all(admin.get(ref) is None for ref in children),
        60,
        "the admin panel's children to be deleted",
    )
    wait_for(lambda: not _admin_paths(admin, kube_namespace), 30, "the /admin rule to go")

    def ready_without_admin() -> dict[str, Any] | None:
        found = _current_and_ready(admin, kube_namespace)
        return found if found and "admin" not in found["status"] else None

    body = wait_for(
        ready_without_admin,
        60,
        "Ready without the admin panel's counts",
    )
    assert condition(body, "Degraded")["status"] == "False"
    kept = admin.get(secret)
    assert kept is not None
    assert kept["data"] == session["data"]
