"""What one reconcile writes, decided from what it observed (pure).

The reconcile reads everything first (reconcile.py ``_observe``: the live children,
the Secrets, the served API kinds, the backup Jobs), these functions turn the
desired state and those observations into ``Write``s, and the apply step only
writes them. A child that must not be touched (a name taken by someone else's
object, a Secret that cannot be completed) is an ``UnrealisableError`` carrying the
Degraded Problem; the other children still converge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sora_operator.api.v1alpha1 import KIND
from sora_operator.builders import labels, names, secret
from sora_operator.compare import differences, fingerprinted
from sora_operator.hpa_handover import handover_manifest, needs_handover
from sora_operator.kube import FIELD_MANAGER
from sora_operator.objects import ObjectRef, ref_of
from sora_operator.spec import (
    ADMIN_SECRET_KEYS,
    SECRET_KEYS,
    SoraDeployment,
    missing_secret_keys,
)
from sora_operator.status import Problem


class UnrealisableError(Exception):
    """The spec asks for something the cluster refuses; becomes a Degraded Problem."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class Change:
    """One write the reconcile made, for Events and logs."""

    verb: str  # Created, Updated, Deleted
    ref: ObjectRef
    fields: tuple[str, ...] = ()

    def describe(self) -> str:
        detail = f" ({', '.join(self.fields[:5])})" if self.fields else ""
        return f"{self.verb} {self.ref.kind} {self.ref.name}{detail}"


@dataclass(frozen=True)
class Write:
    """One write to make: an apply, a create-only create, or a deletion."""

    change: Change
    #: What to apply or create; None for a deletion.
    manifest: Mapping[str, Any] | None = None
    #: Create, never apply (Secrets, the restore Job): the change counts only if created.
    create_only: bool = False
    #: After creating an autoscaled Deployment: the replicas to hand to the HPA's manager.
    floor: int | None = None
    #: Before updating: the handover field manager's apply of the live replica count.
    handover: Mapping[str, Any] | None = None

    @property
    def ref(self) -> ObjectRef:
        return self.change.ref


def child_write(
    manifest: Mapping[str, Any],
    live: Mapping[str, Any] | None,
    sora_deployment: SoraDeployment,
    *,
    floor: int | None,
    hands_over: bool,
) -> Write | None:
    """Create the child, update the fields that drifted, or nothing when it is converged.

    ``floor``: the HPA's minimum now when an HPA scales it (created with that many
    replicas, and raised to it when it runs fewer: an operator stopped between the
    create and the floor left it at one). ``hands_over``: a second field manager takes
    ``replicas`` from ours.
    """
    desired = fingerprinted(manifest)
    ref = ref_of(desired)
    floor = floor if hands_over else None
    if live is None:
        return Write(Change("Created", ref), desired, floor=floor)
    _check_ownership(live, ref, sora_deployment)
    drift = tuple(differences(desired, live))
    below_floor = floor is not None and _replicas(live) < floor
    if not drift and not below_floor:
        return None
    handover = (
        handover_manifest(live)
        if hands_over and needs_handover(desired, live, FIELD_MANAGER)
        else None
    )
    fields = drift + (("spec.replicas",) if below_floor else ())
    return Write(
        Change("Updated", ref, fields),
        desired,
        handover=handover,
        floor=floor if below_floor else None,
    )


def _replicas(live: Mapping[str, Any]) -> int:
    return int((live.get("spec") or {}).get("replicas", 1))


def removal(
    ref: ObjectRef, live: Mapping[str, Any] | None, sora_deployment: SoraDeployment
) -> Write | None:
    """Delete a child the spec turned off, if it exists and is ours."""
    if live is not None and is_ours(live, sora_deployment):
        return Write(Change("Deleted", ref))
    return None


def secret_write(
    sora_deployment: SoraDeployment,
    live: Mapping[str, Any] | None,
    claim: Mapping[str, Any] | None,
    generate: Callable[[], Mapping[str, str]],
) -> Write | None:
    """The platform Secret: checked when it exists, generated when it may be."""
    ref = secret_ref(sora_deployment)
    if live is not None:
        _check_secret_keys(live, ref)
        return None
    if sora_deployment.feedback_api.secret_is_external:
        raise UnrealisableError(
            Problem(
                "SecretMissing",
                f"Secret {ref.name} (feedbackApi.existingSecret) does not exist. It is "
                "managed outside the operator (External Secrets, Secrets Manager): "
                f"create it with {', '.join(SECRET_KEYS)}; the operator never generates "
                "keys for a Secret it does not own.",
            )
        )
    if claim is not None:
        raise UnrealisableError(
            Problem(
                "SecretMissing",
                f"Secret {ref.name} is missing but the database volume "
                f"{names.database_claim(sora_deployment)} exists. Restore the Secret with its "
                "original ENCRYPTION_KEY; the operator does not generate a new key for "
                "existing data.",
            )
        )
    manifest = secret.generated_secret(sora_deployment, generate())
    return Write(Change("Created", ref), manifest, create_only=True)


def admin_secret_write(
    sora_deployment: SoraDeployment,
    live: Mapping[str, Any] | None,
    generate: Callable[[], Mapping[str, str]],
) -> Write | None:
    """SESSION_SECRET for the admin panel: created when missing, then never touched.

    Kept when the panel is turned off (the operator may not delete Secrets), so
    turning it on again finds the same key.
    """
    if not sora_deployment.admin.enabled:
        return None
    ref = admin_secret_ref(sora_deployment)
    if live is not None:
        _check_secret_keys(live, ref, ADMIN_SECRET_KEYS)
        return None
    manifest = secret.generated_admin_secret(sora_deployment, generate())
    return Write(Change("Created", ref), manifest, create_only=True)


def secret_ref(sora_deployment: SoraDeployment) -> ObjectRef:
    return ObjectRef("Secret", sora_deployment.namespace, sora_deployment.feedback_api.secret_name)


def admin_secret_ref(sora_deployment: SoraDeployment) -> ObjectRef:
    return ObjectRef("Secret", sora_deployment.namespace, sora_deployment.admin.session_secret_name)


def claim_ref(sora_deployment: SoraDeployment) -> ObjectRef:
    return ObjectRef(
        "PersistentVolumeClaim", sora_deployment.namespace, names.database_claim(sora_deployment)
    )


def is_ours(live: Mapping[str, Any], sora_deployment: SoraDeployment) -> bool:
    """Managed by the operator for a SoraDeployment of this name (this one or a deleted one)."""
    found = live.get("metadata", {}).get("labels") or {}
    return bool(
        found.get(labels.MANAGED_BY) == labels.OPERATOR
        and found.get(labels.INSTANCE) == sora_deployment.name
    )


def _check_ownership(
    live: Mapping[str, Any], ref: ObjectRef, sora_deployment: SoraDeployment
) -> None:
    if is_ours(live, sora_deployment):
        return
    raise UnrealisableError(
        Problem(
            "NameTaken",
            f"{ref.kind} {ref.name} already exists and is not managed by this {KIND}; "
            "delete or rename it, and the operator will create its own.",
        )
    )


def _check_secret_keys(
    live: Mapping[str, Any], ref: ObjectRef, keys: tuple[str, ...] = SECRET_KEYS
) -> None:
    missing = missing_secret_keys(live.get("data"), keys)
    if missing:
        raise UnrealisableError(
            Problem(
                "SecretIncomplete",
                f"Secret {ref.name} lacks {', '.join(missing)}. Add them yourself; the "
                "operator never changes an existing Secret.",
            )
        )
