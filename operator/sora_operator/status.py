"""The SoraDeployment's status, computed from what the reconcile saw (pure).

``Ready``: every component serves the current spec with all its pods available;
when not, its reason and message give the cause a blocking object states
(diagnosis.py: a Pending claim, an unschedulable pod, an image that cannot be
pulled, a crash loop, a failing probe), also kept per component in
``<component>.notReady``. ``Progressing``: a rollout is under way (or waiting for
pods). ``Degraded``: the spec cannot be realised, or a rollout failed (passed its
progress deadline, with the cause when known); the message says what to do.
A condition's ``lastTransitionTime`` moves only when its status changes
(conditions.py), so a converged reconcile computes the very status already
stored, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sora_contract import layout
from sora_operator.builders import names
from sora_operator.conditions import condition, find, with_transition_time
from sora_operator.diagnosis import Cause
from sora_operator.spec import SoraDeployment

#: (rollout label, status key) of each component's replica counts.
COMPONENT_STATUS_KEYS: Final = (
    ("file server", "fileServer"),
    ("feedback API", "feedbackApi"),
    ("admin panel", "admin"),
)


@dataclass(frozen=True)
class Problem:
    """Why the spec cannot be realised: a CamelCase reason and a sentence for a person."""

    reason: str
    message: str


@dataclass(frozen=True)
class Rollout:
    """One component's Deployment, summarised."""

    label: str
    wanted: int
    ready: int
    updated: int
    available: int
    current: bool  # the controller has seen the latest template and no old pods remain
    failed_message: str | None
    #: Why it is not ready, as the blocking object says (diagnosis.py); None: nothing stated.
    cause: Cause | None = None

    @property
    def complete(self) -> bool:
        return self.current and self.updated >= self.wanted and self.available >= self.wanted

    def summary(self) -> dict[str, Any]:
        counts: dict[str, Any] = {
            "replicas": self.wanted,
            "readyReplicas": self.ready,
            "updatedReplicas": self.updated,
            "ready": f"{self.ready}/{self.wanted}",
        }
        if self.cause is not None:
            counts["notReady"] = self.cause.as_status()
        return counts

    def waiting_detail(self) -> str:
        detail = f"{self.label}: {self.available}/{self.wanted} available"
        return f"{detail}: {self.cause.message}" if self.cause else detail


def rollout(label: str, deployment: Mapping[str, Any] | None) -> Rollout:
    if deployment is None:
        return Rollout(label, 0, 0, 0, 0, False, None)
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    wanted = int(spec.get("replicas", 1))
    observed = int(status.get("observedGeneration", 0))
    generation = int(deployment.get("metadata", {}).get("generation", 0))
    total = int(status.get("replicas", 0))
    updated = int(status.get("updatedReplicas", 0))
    return Rollout(
        label=label,
        wanted=wanted,
        ready=int(status.get("readyReplicas", 0)),
        updated=updated,
        available=int(status.get("availableReplicas", 0)),
        current=observed >= generation and total == updated,
        failed_message=_deadline_exceeded(status),
    )


def _deadline_exceeded(status: Mapping[str, Any]) -> str | None:
    progressing = find(status.get("conditions"), "Progressing") or {}
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return str(progressing.get("message", "the rollout exceeded its progress deadline"))
    return None


def compute_status(
    sora_deployment: SoraDeployment | None,
    *,
    generation: int,
    rollouts: Sequence[Rollout],
    problems: Sequence[Problem],
    previous: Mapping[str, Any],
    now: str,
    ingress: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The full status to store; ``previous`` keeps transition times and foreign fields."""
    by_label = {item.label: item for item in rollouts}
    wanted = [
        _ready(rollouts, problems),
        _progressing(rollouts),
        _degraded(rollouts, problems),
    ]
    status: dict[str, Any] = {
        "observedGeneration": generation,
        "conditions": [
            with_transition_time(c, previous.get("conditions"), generation, now) for c in wanted
        ],
    }
    if sora_deployment is not None:
        status["endpoints"] = _endpoints(sora_deployment, ingress)
        status["secretName"] = sora_deployment.feedback_api.secret_name
    for label, key in COMPONENT_STATUS_KEYS:
        if label in by_label:
            status[key] = by_label[label].summary()
    if sora_deployment is not None and not sora_deployment.admin.enabled:
        status["admin"] = None  # a panel turned off leaves no counts behind (status_changes)
    return status


def _ready(rollouts: Sequence[Rollout], problems: Sequence[Problem]) -> dict[str, str]:
    stopped = [item.label for item in rollouts if item.wanted == 0]
    if stopped:
        return condition("Ready", False, "ScaledToZero", f"{_join(stopped)} set to 0 replicas")
    waiting = [item for item in rollouts if not item.complete]
    if waiting:
        detail = "; ".join(item.waiting_detail() for item in waiting)
        causes = [item.cause for item in waiting if item.cause is not None]
        reason = causes[0].reason if causes else "ComponentsNotReady"
        return condition("Ready", False, reason, detail)
    if problems and not rollouts:
        return condition("Ready", False, problems[0].reason, problems[0].message)
    return condition("Ready", True, "Available", "Every component serves the current spec")


def _progressing(rollouts: Sequence[Rollout]) -> dict[str, str]:
    moving = [item for item in rollouts if not item.complete and item.failed_message is None]
    if moving:
        detail = "; ".join(
            f"{item.label}: {item.updated}/{item.wanted} updated, {item.available} available"
            for item in moving
        )
        return condition("Progressing", True, "RollingOut", detail)
    return condition("Progressing", False, "RolloutComplete", "No rollout in progress")


def _degraded(rollouts: Sequence[Rollout], problems: Sequence[Problem]) -> dict[str, str]:
    if problems:
        reason = problems[0].reason
        return condition("Degraded", True, reason, " ".join(p.message for p in problems))
    failed = [item for item in rollouts if item.failed_message]
    if failed:
        detail = "; ".join(_failure_detail(item) for item in failed)
        return condition("Degraded", True, "RolloutFailed", detail)
    return condition("Degraded", False, "AsExpected", "The spec is realised")


def _failure_detail(item: Rollout) -> str:
    if item.cause is not None:
        return f"{item.label}: {item.failed_message}; {item.cause.message}"
    return (
        f"{item.label}: {item.failed_message}. The pods' events (kubectl describe pod) "
        "show image or scheduling errors."
    )


def _endpoints(
    sora_deployment: SoraDeployment, ingress: Mapping[str, Any] | None
) -> dict[str, str]:
    domain = f"{sora_deployment.namespace}.svc"
    endpoints = {
        "fileServer": f"http://{names.file_server(sora_deployment)}.{domain}:{layout.FILE_SERVER_PORT}",
        "feedbackApi": f"http://{names.feedback_api(sora_deployment)}.{domain}:{layout.FEEDBACK_API_PORT}",
    }
    public = _public_address(sora_deployment, ingress)
    if sora_deployment.admin.enabled:
        endpoints["admin"] = names.service_url(
            sora_deployment, names.admin(sora_deployment), layout.ADMIN_PORT
        )
    if public:
        endpoints["ingress"] = public
    return endpoints


def _public_address(
    sora_deployment: SoraDeployment, ingress: Mapping[str, Any] | None
) -> str | None:
    if ingress is None:
        return None
    balancers = ingress.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    address = sora_deployment.ingress.host or next(
        (b.get("hostname") or b.get("ip") for b in balancers if b.get("hostname") or b.get("ip")),
        None,
    )
    if not address or not balancers:
        return None
    return f"{sora_deployment.ingress.scheme}://{address}"


def cause_events(
    previous: Mapping[str, Any], status: Mapping[str, Any]
) -> list[tuple[bool, str, str]]:
    """(warning, reason, message) of one Event per new cause a component is not ready.

    A cause already stored is not announced again at the next resync; a new one (or
    the same reason with another message) is.
    """
    events = []
    for label, key in COMPONENT_STATUS_KEYS:
        cause = (status.get(key) or {}).get("notReady")
        if cause and cause != (previous.get(key) or {}).get("notReady"):
            events.append((True, str(cause["reason"]), f"{label}: {cause['message']}"))
    return events


def status_changes(previous: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON merge patch turning ``previous`` into ``desired`` for the keys ``desired`` has.

    Keys the operator does not compute (``lastBackup``...) are left alone; nested
    keys that disappeared are removed with None. Empty: nothing to write.
    """
    patch: dict[str, Any] = {}
    for key, value in desired.items():
        old = previous.get(key)
        if old == value:
            continue
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            nested = status_changes(old, value)
            nested.update({gone: None for gone in old if gone not in value})
            patch[key] = nested
        else:
            patch[key] = value
    return patch


def _join(items: Sequence[str]) -> str:
    return " and ".join(items)
