"""Conditions computed from what the reconcile saw."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from sora_operator.diagnosis import Cause
from sora_operator.status import (
    Problem,
    Rollout,
    cause_events,
    compute_status,
    rollout,
    status_changes,
)
from tests.unit.operator.factories import make_sora_deployment

NOW = "2026-01-01T00:00:00Z"
LATER = "2026-01-01T00:05:00Z"


def _deployment(
    replicas: int = 2, ready: int = 2, updated: int = 2, generation: int = 3
) -> dict[str, Any]:
    return {
        "metadata": {"generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": generation,
            "replicas": updated,
            "readyReplicas": ready,
            "updatedReplicas": updated,
            "availableReplicas": ready,
        },
    }


def _done(label: str = "file server") -> Rollout:
    return rollout(label, _deployment())


def _conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


def _status(
    rollouts: list[Rollout],
    problems: list[Problem] | None = None,
    previous: Any = None,
    now: str = NOW,
) -> dict[str, Any]:
    return compute_status(
        make_sora_deployment("prod"),
        generation=7,
        rollouts=rollouts,
        problems=problems or [],
        previous=previous or {},
        now=now,
    )


def test_all_components_available_means_ready() -> None:
    conditions = _conditions(_status([_done(), _done("feedback API")]))
    assert conditions["Ready"]["status"] == "True"
    assert conditions["Progressing"]["status"] == "False"
    assert conditions["Degraded"]["status"] == "False"


def test_a_component_short_of_pods_is_not_ready_and_progressing() -> None:
    waiting = rollout("file server", _deployment(ready=1))
    conditions = _conditions(_status([waiting, _done("feedback API")]))
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == (
        "False",
        "ComponentsNotReady",
    )
    assert "file server: 1/2 available" in conditions["Ready"]["message"]
    assert conditions["Progressing"]["status"] == "True"


def test_a_template_not_yet_observed_is_progressing() -> None:
    stale = _deployment()
    stale["metadata"]["generation"] = 4
    conditions = _conditions(_status([rollout("file server", stale)]))
    assert conditions["Progressing"]["status"] == "True"


def test_a_missing_deployment_is_not_ready() -> None:
    conditions = _conditions(_status([rollout("file server", None)]))
    assert conditions["Ready"]["status"] == "False"


def test_a_rollout_past_its_deadline_is_degraded_not_progressing() -> None:
    failed = _deployment(ready=0)
    failed["status"]["conditions"] = [
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "stuck",
        }
    ]
    conditions = _conditions(_status([rollout("file server", failed)]))
    assert (conditions["Degraded"]["status"], conditions["Degraded"]["reason"]) == (
        "True",
        "RolloutFailed",
    )
    assert conditions["Progressing"]["status"] == "False"


def test_a_problem_makes_degraded_true_with_its_reason_and_message() -> None:
    problem = Problem("SecretIncomplete", "Secret x lacks IP_SALT.")
    degraded = _conditions(_status([_done()], [problem]))["Degraded"]
    assert (degraded["status"], degraded["reason"], degraded["message"]) == (
        "True",
        "SecretIncomplete",
        "Secret x lacks IP_SALT.",
    )


def test_an_invalid_spec_is_not_ready_with_the_problem_as_reason() -> None:
    status = compute_status(
        None,
        generation=2,
        rollouts=[],
        problems=[Problem("InvalidSpec", "bad")],
        previous={},
        now=NOW,
    )
    assert _conditions(status)["Ready"]["reason"] == "InvalidSpec"


def test_a_stopped_feedback_api_is_reported_as_scaled_to_zero() -> None:
    stopped = rollout("feedback API", _deployment(replicas=0, ready=0, updated=0))
    assert _conditions(_status([_done(), stopped]))["Ready"]["reason"] == "ScaledToZero"


def test_transition_time_is_kept_while_the_status_stays() -> None:
    first = _status([_done()])
    second = _status([_done()], previous=first, now=LATER)
    assert _conditions(second)["Ready"]["lastTransitionTime"] == NOW


def test_transition_time_moves_when_the_status_changes() -> None:
    first = _status([rollout("file server", _deployment(ready=0))])
    second = _status([_done()], previous=first, now=LATER)
    assert _conditions(second)["Ready"]["lastTransitionTime"] == LATER


def test_component_counts_are_reported_for_kubectl_get() -> None:
    status = _status([rollout("file server", _deployment(ready=1)), _done("feedback API")])
    assert status["fileServer"]["ready"] == "1/2"


def test_observed_generation_is_the_reconciled_generation() -> None:
    assert _status([_done()])["observedGeneration"] == 7


def test_service_endpoints_are_the_in_cluster_urls() -> None:
    endpoints = _status([_done()])["endpoints"]
    assert endpoints == {
        "fileServer": "http://shop-file-server.sora-prod.svc:3000",
        "feedbackApi": "http://shop-feedback-api.sora-prod.svc:3001",
    }


def test_a_converged_status_needs_no_patch() -> None:
    first = _status([_done()])
    assert status_changes(first, _status([_done()], previous=first, now=LATER)) == {}


def test_status_patch_leaves_fields_of_other_writers_alone() -> None:
    previous = {**_status([_done()]), "lastBackup": {"time": NOW}}
    patch = status_changes(
        previous, _status([rollout("file server", _deployment(ready=1))], previous=previous)
    )
    assert "lastBackup" not in patch
    assert "conditions" in patch


def test_status_patch_removes_nested_keys_that_disappeared() -> None:
    previous = {"endpoints": {"fileServer": "a", "ingress": "http://old"}}
    assert status_changes(previous, {"endpoints": {"fileServer": "a"}}) == {
        "endpoints": {"ingress": None}
    }


def _mid_rollout(**status: int) -> dict[str, Any]:
    """A Deployment scaled from 1 to 2 with a new template (generation 4), part way."""
    deployment = _deployment(replicas=2, generation=4)
    deployment["status"].update(status)
    return deployment


@pytest.mark.parametrize(
    "status",
    [
        pytest.param({"observedGeneration": 3}, id="controller-has-not-seen-the-new-template"),
        pytest.param({"updatedReplicas": 1, "replicas": 2}, id="one-pod-still-old"),
        pytest.param({"replicas": 3}, id="an-old-pod-still-running-beside-two-new"),
        pytest.param({"availableReplicas": 1, "readyReplicas": 1}, id="a-new-pod-not-available"),
    ],
)
def test_a_deployment_mid_rollout_is_not_ready(status: dict[str, int]) -> None:
    """Ready needs every Deployment's rollout of its latest generation to be complete."""
    conditions = _conditions(_status([rollout("file server", _mid_rollout(**status))]))
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Progressing"]["status"] == "True"


def test_every_condition_names_the_generation_it_speaks_for() -> None:
    status = _status([_done()])
    assert {c["observedGeneration"] for c in status["conditions"]} == {7}


CLAIM_PENDING = Cause("ClaimPending", "database claim shop-feedback-db is Pending (StorageClass x)")


def _blocked(label: str = "feedback API", cause: Cause = CLAIM_PENDING) -> Rollout:
    return replace(rollout(label, _deployment(ready=0)), cause=cause)


def test_a_stated_cause_is_the_ready_reason_and_in_its_message() -> None:
    ready = _conditions(_status([_done(), _blocked()]))["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "ClaimPending")
    assert ready["message"] == f"feedback API: 0/2 available: {CLAIM_PENDING.message}"


def test_a_stated_cause_is_kept_with_the_components_counts() -> None:
    status = _status([_done(), _blocked()])
    assert status["feedbackApi"]["notReady"] == {
        "reason": "ClaimPending",
        "message": CLAIM_PENDING.message,
    }
    assert "notReady" not in status["fileServer"]


def test_a_failed_rollout_with_a_cause_says_it_in_degraded() -> None:
    failed = _deployment(ready=0)
    failed["status"]["conditions"] = [
        {"type": "Progressing", "reason": "ProgressDeadlineExceeded", "message": "stuck"}
    ]
    crashing = Cause("CrashLooping", "container x of pod y is crash looping: last exit code 3")
    item = replace(rollout("file server", failed), cause=crashing)
    degraded = _conditions(_status([item]))["Degraded"]
    assert degraded["message"] == f"file server: stuck; {crashing.message}"


def test_a_new_cause_is_announced_once() -> None:
    first = _status([_done(), _blocked()])
    assert cause_events({}, first) == [
        (True, "ClaimPending", f"feedback API: {CLAIM_PENDING.message}")
    ]
    assert cause_events(first, _status([_done(), _blocked()])) == []


def test_another_cause_is_announced_again() -> None:
    first = _status([_done(), _blocked()])
    pulling = Cause("ImagePullFailed", "container c of pod p cannot pull image i: not found")
    events = cause_events(first, _status([_done(), _blocked(cause=pulling)]))
    assert [reason for _, reason, _ in events] == ["ImagePullFailed"]
