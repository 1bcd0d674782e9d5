"""Labels, owner references and metadata shared by every child.

Selectors use only ``app.kubernetes.io/name`` and ``instance`` (they are
immutable on Deployments); the other labels describe and let the operator find
its children again (``managed-by`` + ``instance`` map a child to its parent).
"""

from __future__ import annotations

from typing import Any, Final

from sora_operator.api.v1alpha1 import API_VERSION, GROUP, KIND
from sora_operator.spec import SoraDeployment

NAME: Final = "app.kubernetes.io/name"
INSTANCE: Final = "app.kubernetes.io/instance"
COMPONENT: Final = "app.kubernetes.io/component"
PART_OF: Final = "app.kubernetes.io/part-of"
MANAGED_BY: Final = "app.kubernetes.io/managed-by"
VERSION: Final = "app.kubernetes.io/version"
ENVIRONMENT: Final = f"{GROUP}/environment"

OPERATOR: Final = "sora-operator"
PLATFORM: Final = "sora"

#: Server-side selector for every object the operator manages (its watches use it).
MANAGED_SELECTOR: Final = f"{MANAGED_BY}={OPERATOR}"


def selector_labels(sora_deployment: SoraDeployment, component: str) -> dict[str, str]:
    """The pods of one component of one SoraDeployment (immutable once created)."""
    return {NAME: f"{PLATFORM}-{component}", INSTANCE: sora_deployment.name}


def instance_labels(sora_deployment: SoraDeployment) -> dict[str, str]:
    """Every pod of one SoraDeployment, whatever its component."""
    return {INSTANCE: sora_deployment.name, PART_OF: PLATFORM}


def common_labels(sora_deployment: SoraDeployment, component: str) -> dict[str, str]:
    return {
        **selector_labels(sora_deployment, component),
        COMPONENT: component,
        PART_OF: PLATFORM,
        MANAGED_BY: OPERATOR,
        ENVIRONMENT: sora_deployment.environment,
    }


def owner_reference(sora_deployment: SoraDeployment) -> dict[str, Any]:
    """Makes the garbage collector delete the child with its SoraDeployment."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": sora_deployment.name,
        "uid": sora_deployment.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def metadata(
    sora_deployment: SoraDeployment,
    name: str,
    component: str,
    *,
    owned: bool = True,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": sora_deployment.namespace,
        "labels": common_labels(sora_deployment, component),
    }
    if annotations:
        meta["annotations"] = annotations
    if owned:
        meta["ownerReferences"] = [owner_reference(sora_deployment)]
    return meta
