"""Handing the file server's ``replicas`` over to the HPA without a reset (pure).

With server-side apply, a field the operator applied and then stops applying
is removed, and ``replicas`` falls back to 1 before the HPA scales up again.
So before the first apply without ``replicas``, another field manager applies
the live count: the field keeps an owner, keeps its value, and the HPA takes it
from there. When autoscaling is turned off the operator applies ``replicas``
again (with force) and owns it alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

HANDOVER_MANAGER: Final = "sora-operator-replicas-handover"


def owns_replicas(live: Mapping[str, Any], manager: str) -> bool:
    """Does ``manager`` own ``spec.replicas`` of the live object through an apply?"""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") != manager or entry.get("operation") != "Apply":
            continue
        spec = (entry.get("fieldsV1") or {}).get("f:spec") or {}
        if "f:replicas" in spec:
            return True
    return False


def needs_handover(desired: Mapping[str, Any], live: Mapping[str, Any], manager: str) -> bool:
    """A Deployment about to be applied without ``replicas`` that the operator still owns."""
    return (
        desired.get("kind") == "Deployment"
        and "replicas" not in (desired.get("spec") or {})
        and owns_replicas(live, manager)
    )


def handover_manifest(live: Mapping[str, Any]) -> dict[str, Any]:
    """An apply of the live replica count only, for the handover field manager."""
    return replicas_manifest(live, int((live.get("spec") or {}).get("replicas", 1)))


def replicas_manifest(deployment: Mapping[str, Any], replicas: int) -> dict[str, Any]:
    """An apply of ``replicas`` only, for the handover field manager: also how a Deployment
    created for an HPA starts at the HPA's floor instead of the API's default of 1."""
    metadata = deployment.get("metadata") or {}
    return {
        "apiVersion": deployment.get("apiVersion", "apps/v1"),
        "kind": deployment.get("kind", "Deployment"),
        "metadata": {"name": metadata.get("name"), "namespace": metadata.get("namespace")},
        "spec": {"replicas": replicas},
    }
