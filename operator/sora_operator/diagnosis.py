"""Why a component is not ready, in the words of the object that blocks it (pure).

The reconcile reads, only for a component whose rollout is not complete, its pods,
the namespace's Events and (for the feedback API) its database claim; ``diagnose``
turns them into one :class:`Cause`: a CamelCase reason and a sentence naming the
object, quoting what its controller said, and what to look at next.

A cause is only ever a fact the blocking object states: a container's waiting
reason, the scheduler's ``PodScheduled=False`` condition, a Warning Event (the PV
controller's about a claim, the kubelet's ``Unhealthy`` about a probe). Nothing is
inferred from time, so a pod that is merely starting is no cause and a normal
rollout stays quiet. Messages leave out what changes from one resync to the next
(restart counts, back-off durations), so one cause is announced once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sora_operator import conditions

#: The Events the diagnosis reads are about pods and claims (matched by uid). The
#: namespace's Events about SoraDeployments (one per child the operator writes),
#: Deployments and ReplicaSets (scaling) are most of the rest, grow with every
#: SoraDeployment in the namespace, and are left on the server (a field selector).
EVENTS_READ: Final = ",".join(
    f"involvedObject.kind!={kind}" for kind in ("SoraDeployment", "Deployment", "ReplicaSet")
)

CLAIM_PENDING: Final = "ClaimPending"
IMAGE_PULL_FAILED: Final = "ImagePullFailed"
CONTAINER_CONFIG_ERROR: Final = "ContainerConfigError"
CRASH_LOOPING: Final = "CrashLooping"
UNSCHEDULABLE: Final = "Unschedulable"
PROBE_FAILING: Final = "ProbeFailing"
#: Every reason ``diagnose`` gives, most telling first: with several, the first wins.
REASONS: Final = (
    CLAIM_PENDING,
    IMAGE_PULL_FAILED,
    CONTAINER_CONFIG_ERROR,
    CRASH_LOOPING,
    UNSCHEDULABLE,
    PROBE_FAILING,
)

IMAGE_PULL_WAITING: Final = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
CONFIG_WAITING: Final = frozenset({"CreateContainerConfigError", "CreateContainerError"})


@dataclass(frozen=True)
class Cause:
    reason: str
    message: str

    def as_status(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message}


@dataclass(frozen=True)
class Observation:
    """What the reconcile read about one component that is not ready."""

    pods: Sequence[Mapping[str, Any]] = ()
    #: Events of the namespace; each is matched to its object by uid.
    events: Sequence[Mapping[str, Any]] = ()
    claim: Mapping[str, Any] | None = None

    def events_of(self, obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The Events about ``obj``, newest first."""
        uid = _metadata(obj).get("uid")
        about = [e for e in self.events if (e.get("involvedObject") or {}).get("uid") == uid]
        return sorted(about, key=_event_time, reverse=True)


def diagnose(observation: Observation) -> Cause | None:
    """The most telling cause that keeps the component from being ready, if any is stated."""
    causes = [_claim_cause(observation)]
    for pod in sorted(observation.pods, key=lambda p: str(_metadata(p).get("name", ""))):
        if not _metadata(pod).get("deletionTimestamp"):
            causes.append(_pod_cause(pod, observation.events_of(pod)))
    found = [cause for cause in causes if cause is not None]
    return min(found, key=lambda c: REASONS.index(c.reason)) if found else None


# -- the database claim ----------------------------------------------------------------


def _claim_cause(observation: Observation) -> Cause | None:
    """A Pending claim, once something says why: a Warning Event, or a pod waiting for it."""
    claim = observation.claim
    if claim is None or (claim.get("status") or {}).get("phase", "Pending") != "Pending":
        return None
    events = observation.events_of(claim)
    warning = next((e for e in events if e.get("type") == "Warning"), None)
    if warning is None and not any(_waits_for_claim(pod) for pod in observation.pods):
        return None
    said = warning or next(iter(events), None)
    detail = str(said.get("message")) if said else "no volume has been provisioned for it"
    storage_class = (claim.get("spec") or {}).get("storageClassName") or "none set"
    return Cause(
        CLAIM_PENDING,
        f"database claim {_metadata(claim).get('name')} is Pending (StorageClass "
        f"{storage_class}): {detail}. Check that the StorageClass exists and its "
        "provisioner runs (kubectl describe pvc).",
    )


def _waits_for_claim(pod: Mapping[str, Any]) -> bool:
    scheduled = _condition(pod, "PodScheduled")
    return scheduled.get("status") == "False" and "PersistentVolumeClaim" in str(
        scheduled.get("message", "")
    )


# -- pods ------------------------------------------------------------------------------


def _pod_cause(pod: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> Cause | None:
    name = _metadata(pod).get("name")
    for container in _container_statuses(pod):
        cause = _container_cause(str(name), container, events)
        if cause is not None:
            return cause
    scheduled = _condition(pod, "PodScheduled")
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return Cause(
            UNSCHEDULABLE,
            f"pod {name} cannot be scheduled: {scheduled.get('message', 'no node fits it')}",
        )
    return _probe_cause(pod, events)


def _container_cause(
    pod: str, container: Mapping[str, Any], events: Sequence[Mapping[str, Any]]
) -> Cause | None:
    waiting = (container.get("state") or {}).get("waiting") or {}
    reason, said = waiting.get("reason"), waiting.get("message")
    where = f"container {container.get('name')} of pod {pod}"
    if reason in IMAGE_PULL_WAITING:
        pull_failed = _first(events, "Failed", "Failed to pull image")
        detail = pull_failed or (said if reason != "ImagePullBackOff" else None) or reason
        return Cause(
            IMAGE_PULL_FAILED,
            f"{where} cannot pull image {container.get('image')}: {detail}. "
            "Check spec.image (repository, tag) and the registry's credentials.",
        )
    if reason in CONFIG_WAITING:
        return Cause(CONTAINER_CONFIG_ERROR, f"{where} cannot start: {said or reason}")
    if reason == "CrashLoopBackOff":
        last = (container.get("lastState") or {}).get("terminated") or {}
        return Cause(
            CRASH_LOOPING,
            f"{where} is crash looping: last exit code {last.get('exitCode', 'unknown')} "
            f"({last.get('reason', 'no reason given')}); its log says why: "
            f"kubectl logs {pod} -c {container.get('name')} --previous",
        )
    return None


def _probe_cause(pod: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> Cause | None:
    """Running but not ready, and the kubelet said a probe failed (its Unhealthy Event)."""
    if _condition(pod, "Ready").get("status") == "True":
        return None
    for container in _container_statuses(pod):
        running = "running" in (container.get("state") or {})
        if running and not container.get("ready"):
            failed = _first(events, "Unhealthy")
            if failed:
                return Cause(
                    PROBE_FAILING,
                    f"container {container.get('name')} of pod {_metadata(pod).get('name')} "
                    f"runs but is not ready: {failed}",
                )
    return None


# -- reading Kubernetes objects ----------------------------------------------------------


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _condition(pod: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    return conditions.find((pod.get("status") or {}).get("conditions"), kind) or {}


def _container_statuses(pod: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]


def _first(events: Sequence[Mapping[str, Any]], reason: str, prefix: str = "") -> str | None:
    """The newest Event message with ``reason`` (and starting with ``prefix``)."""
    for event in events:
        message = str(event.get("message", ""))
        if event.get("reason") == reason and message.startswith(prefix):
            return message
    return None


def _event_time(event: Mapping[str, Any]) -> str:
    series = event.get("series") or {}
    return str(
        event.get("lastTimestamp")
        or series.get("lastObservedTime")
        or event.get("eventTime")
        or _metadata(event).get("creationTimestamp")
        or ""
    )
