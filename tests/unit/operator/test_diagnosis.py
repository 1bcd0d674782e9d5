"""Why a component is not ready: pods, claims and Events in, a reason and a message out."""

from __future__ import annotations

from typing import Any

import pytest

from sora_operator.diagnosis import Cause, Observation, diagnose


def _pod(
    name: str = "shop-feedback-api-7d9-x2x",
    *,
    containers: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "status": {"conditions": conditions or [], "containerStatuses": containers or []},
    }


def _container(state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "feedback-api", "image": "sora/services:9.9", "state": state, **extra}


def _waiting(reason: str, message: str = "") -> dict[str, Any]:
    return _container({"waiting": {"reason": reason, "message": message}})


def _event(about: dict[str, Any], reason: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "involvedObject": {"uid": about["metadata"]["uid"]},
        "type": "Warning",
        "reason": reason,
        "message": message,
        "lastTimestamp": "2026-01-01T00:00:00Z",
        **extra,
    }


def _claim(phase: str = "Pending", storage_class: str | None = "fast") -> dict[str, Any]:
    spec = {"storageClassName": storage_class} if storage_class else {}
    return {
        "metadata": {"name": "shop-feedback-db", "uid": "uid-claim"},
        "spec": spec,
        "status": {"phase": phase},
    }


UNSCHEDULED = {
    "type": "PodScheduled",
    "status": "False",
    "reason": "Unschedulable",
    "message": "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
}
WAITING_FOR_CLAIM = {
    **UNSCHEDULED,
    "message": "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
}


def test_a_pending_claim_is_named_with_its_storage_class_and_the_controllers_words() -> None:
    claim = _claim()
    missing = 'storageclass.storage.k8s.io "fast" not found'
    cause = diagnose(
        Observation(
            pods=[_pod(conditions=[WAITING_FOR_CLAIM])],
            events=[_event(claim, "ProvisioningFailed", missing)],
            claim=claim,
        )
    )
    assert cause is not None
    assert cause.reason == "ClaimPending"
    assert "database claim shop-feedback-db is Pending (StorageClass fast)" in cause.message
    assert missing in cause.message


def test_a_pending_claim_without_a_class_or_provisioner_quotes_the_binding_failure() -> None:
    claim = _claim(storage_class=None)
    said = "no persistent volumes available for this claim and no storage class is set"
    cause = diagnose(Observation(events=[_event(claim, "FailedBinding", said)], claim=claim))
    assert cause == Cause(
        "ClaimPending",
        f"database claim shop-feedback-db is Pending (StorageClass none set): {said}. "
        "Check that the StorageClass exists and its provisioner runs (kubectl describe pvc).",
    )


def test_a_claim_pending_for_a_moment_with_nothing_said_is_no_cause() -> None:
    """Just created, not yet bound: a normal start must not be announced as a problem."""
    assert diagnose(Observation(pods=[_pod()], claim=_claim())) is None


def test_a_bound_claim_is_no_cause() -> None:
    claim = _claim(phase="Bound")
    old = _event(claim, "ProvisioningFailed", "a failure long since fixed")
    assert diagnose(Observation(events=[old], claim=claim)) is None


def test_an_unschedulable_pod_gives_the_schedulers_message() -> None:
    cause = diagnose(Observation(pods=[_pod(conditions=[UNSCHEDULED])]))
    assert cause == Cause(
        "Unschedulable",
        f"pod shop-feedback-api-7d9-x2x cannot be scheduled: {UNSCHEDULED['message']}",
    )


@pytest.mark.parametrize("reason", ["ErrImagePull", "ImagePullBackOff"])
def test_an_image_pull_failure_quotes_the_kubelets_pull_error(reason: str) -> None:
    """The same message whether the kubelet is pulling again or backing off (one cause)."""
    pod = _pod(containers=[_waiting(reason, 'Back-off pulling image "sora/services:9.9"')])
    failed = 'Failed to pull image "sora/services:9.9": manifest unknown'
    events = [
        _event(pod, "Failed", "Error: " + reason, lastTimestamp="2026-01-01T00:00:09Z"),
        _event(pod, "Failed", failed),
    ]
    cause = diagnose(Observation(pods=[pod], events=events))
    assert cause is not None
    assert cause.reason == "ImagePullFailed"
    assert cause.message.startswith(
        "container feedback-api of pod shop-feedback-api-7d9-x2x cannot pull image "
        f"sora/services:9.9: {failed}."
    )


def test_an_image_pull_failure_without_events_uses_the_container_status() -> None:
    pod = _pod(containers=[_waiting("ErrImagePull", "rpc error: not found")])
    cause = diagnose(Observation(pods=[pod]))
    assert cause is not None
    assert "cannot pull image sora/services:9.9: rpc error: not found" in cause.message


def test_a_crash_loop_gives_the_last_exit_code_and_reason_but_no_restart_count() -> None:
    container = _waiting("CrashLoopBackOff", "back-off 40s restarting failed container")
    container["lastState"] = {"terminated": {"exitCode": 3, "reason": "Error"}}
    container["restartCount"] = 4
    cause = diagnose(Observation(pods=[_pod(containers=[container])]))
    assert cause == Cause(
        "CrashLooping",
        "container feedback-api of pod shop-feedback-api-7d9-x2x is crash looping: last exit "
        "code 3 (Error); its log says why: "
        "kubectl logs shop-feedback-api-7d9-x2x -c feedback-api --previous",
    )


def test_a_missing_secret_key_is_a_container_config_error() -> None:
    said = "couldn't find key IP_SALT in Secret sora-prod/shop-secrets"
    pod = _pod(containers=[_waiting("CreateContainerConfigError", said)])
    assert diagnose(Observation(pods=[pod])) == Cause(
        "ContainerConfigError",
        f"container feedback-api of pod shop-feedback-api-7d9-x2x cannot start: {said}",
    )


def _running_not_ready() -> dict[str, Any]:
    ready = {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}
    return _pod(
        containers=[_container({"running": {}}, ready=False)],
        conditions=[{"type": "PodScheduled", "status": "True"}, ready],
    )


def test_a_failing_readiness_probe_quotes_the_kubelets_unhealthy_event() -> None:
    pod = _running_not_ready()
    said = "Readiness probe failed: HTTP probe failed with statuscode: 503"
    cause = diagnose(Observation(pods=[pod], events=[_event(pod, "Unhealthy", said)]))
    assert cause == Cause(
        "ProbeFailing",
        f"container feedback-api of pod shop-feedback-api-7d9-x2x runs but is not ready: {said}",
    )


def test_a_container_starting_with_no_failed_probe_is_no_cause() -> None:
    assert diagnose(Observation(pods=[_running_not_ready()])) is None


def test_events_about_other_objects_are_not_taken_for_the_pods() -> None:
    other = _pod("someone-else")
    said = "Readiness probe failed: connection refused"
    assert (
        diagnose(
            Observation(pods=[_running_not_ready()], events=[_event(other, "Unhealthy", said)])
        )
        is None
    )


def test_a_pod_being_deleted_is_no_cause() -> None:
    pod = _pod(conditions=[UNSCHEDULED])
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert diagnose(Observation(pods=[pod])) is None


def test_the_most_telling_cause_wins_over_pods() -> None:
    """A pod that cannot be placed matters less than one whose image does not exist."""
    unschedulable = _pod("a-pod", conditions=[UNSCHEDULED])
    bad_image = _pod("b-pod", containers=[_waiting("ErrImagePull", "not found")])
    cause = diagnose(Observation(pods=[unschedulable, bad_image]))
    assert cause is not None
    assert cause.reason == "ImagePullFailed"
