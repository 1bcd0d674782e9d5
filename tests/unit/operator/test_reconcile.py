"""Compare-and-apply against an in-memory cluster: what gets written, and what never does."""

from __future__ import annotations

import base64
from copy import deepcopy

import pytest

from sora_operator.kube import ApiError
from sora_operator.objects import ObjectRef
from sora_operator.reconcile import Reconciler
from tests.unit.operator.conftest import FakeCluster
from tests.unit.operator.factories import body

NAMESPACE = "sora-prod"
SECRET = ObjectRef("Secret", NAMESPACE, "shop-secrets")
CLAIM = ObjectRef("PersistentVolumeClaim", NAMESPACE, "shop-feedback-db")
FILE_SERVER = ObjectRef("Deployment", NAMESPACE, "shop-file-server")
INGRESS = ObjectRef("Ingress", NAMESPACE, "shop")


def _existing_secret(cluster: FakeCluster, **data: str) -> None:
    cluster.objects[SECRET] = {
        "kind": "Secret",
        "metadata": {"name": SECRET.name, "namespace": NAMESPACE, "resourceVersion": "1"},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


FULL_SECRET = {
    "ENCRYPTION_KEY": "old-key-000000000000",
    "IP_SALT": "salt-0000000000000",
    "ADMIN_TOKEN": "tok-00000000000000",
}


def test_first_reconcile_creates_the_secret_and_every_child(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    outcome = reconciler.reconcile(body({"environment": "prod"}))
    created = {change.ref for change in outcome.changes if change.verb == "Created"}
    assert SECRET in created
    assert len(created) == 14
    assert outcome.problems == []


def test_second_reconcile_of_an_unchanged_world_writes_nothing(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    reconciler.reconcile(body({"environment": "prod"}))
    writes_before = len(cluster.writes)
    outcome = reconciler.reconcile(body({"environment": "prod"}))
    assert cluster.writes[writes_before:] == []
    assert outcome.changes == []


def test_an_existing_secret_is_never_written(cluster: FakeCluster, reconciler: Reconciler) -> None:
    _existing_secret(cluster, **FULL_SECRET)
    before = deepcopy(cluster.objects[SECRET])
    reconciler.reconcile(body({"environment": "prod"}))
    assert cluster.objects[SECRET] == before
    assert all(ref != SECRET for _, ref in cluster.writes)


def test_an_existing_secret_missing_a_key_is_reported_not_completed(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    _existing_secret(cluster, ENCRYPTION_KEY="old-key-000000000000", IP_SALT="salt-0000000000000")
    outcome = reconciler.reconcile(body({"environment": "prod"}))
    assert [p.reason for p in outcome.problems] == ["SecretIncomplete"]
    assert "ADMIN_TOKEN" in outcome.problems[0].message
    assert all(ref != SECRET for _, ref in cluster.writes)


def test_a_lost_secret_is_not_regenerated_while_the_database_exists(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    reconciler.reconcile(body({"environment": "prod"}))
    del cluster.objects[SECRET]
    outcome = reconciler.reconcile(body({"environment": "prod"}))
    assert [p.reason for p in outcome.problems] == ["SecretMissing"]
    assert SECRET not in cluster.objects


def test_a_drifted_field_is_put_back(cluster: FakeCluster, reconciler: Reconciler) -> None:
    reconciler.reconcile(body({"environment": "prod"}))
    cluster.objects[FILE_SERVER]["spec"]["replicas"] = 9
    outcome = reconciler.reconcile(body({"environment": "prod"}))
    (change,) = outcome.changes
    assert (change.verb, change.ref, change.fields) == ("Updated", FILE_SERVER, ("spec.replicas",))
    assert cluster.objects[FILE_SERVER]["spec"]["replicas"] == 2


def test_a_deleted_child_is_created_again(cluster: FakeCluster, reconciler: Reconciler) -> None:
    reconciler.reconcile(body({"environment": "prod"}))
    del cluster.objects[FILE_SERVER]
    outcome = reconciler.reconcile(body({"environment": "prod"}))
    assert [(c.verb, c.ref) for c in outcome.changes] == [("Created", FILE_SERVER)]


def test_turning_the_ingress_off_deletes_it(cluster: FakeCluster, reconciler: Reconciler) -> None:
    reconciler.reconcile(body({"environment": "prod"}))
    outcome = reconciler.reconcile(body({"environment": "prod", "ingress": {"enabled": False}}))
    assert ("Deleted", INGRESS) in [(c.verb, c.ref) for c in outcome.changes]
    assert INGRESS not in cluster.objects


def test_a_foreign_object_with_a_childs_name_is_not_taken_over(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    cluster.objects[FILE_SERVER] = {
        "kind": "Deployment",
        "metadata": {"name": FILE_SERVER.name, "labels": {}},
    }
    outcome = reconciler.reconcile(body({"environment": "prod"}))
    assert [p.reason for p in outcome.problems] == ["NameTaken"]
    assert all(ref != FILE_SERVER for _, ref in cluster.writes)


def test_a_refused_child_does_not_stop_the_others(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    cluster.refuse[CLAIM] = ApiError(422, "Invalid", "spec is immutable", CLAIM)
    outcome = reconciler.reconcile(body({"environment": "prod"}))
    assert [p.reason for p in outcome.problems] == ["Rejected"]
    assert "spec is immutable" in outcome.problems[0].message
    assert FILE_SERVER in cluster.objects


def test_a_temporary_api_error_propagates_for_a_retry(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    cluster.refuse[FILE_SERVER] = ApiError(503, "ServiceUnavailable", "etcd busy", FILE_SERVER)
    with pytest.raises(ApiError, match="etcd busy"):
        reconciler.reconcile(body({"environment": "prod"}))


def test_an_invalid_spec_writes_no_child_and_reports_why(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    outcome = reconciler.reconcile(body({"environment": "prod", "feedbackApi": {"replicas": 3}}))
    assert cluster.writes == []
    assert outcome.problems[0].reason == "InvalidSpec"
    assert outcome.status_patch["conditions"]


def test_the_status_patch_is_empty_when_the_stored_status_is_current(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    first = reconciler.reconcile(body({"environment": "prod"}))
    second = reconciler.reconcile(body({"environment": "prod"}, status=first.status))
    assert second.status_patch == {}


def test_the_status_observes_the_reconciled_generation(reconciler: Reconciler) -> None:
    outcome = reconciler.reconcile(body({"environment": "prod"}, generation=4))
    assert outcome.status["observedGeneration"] == 4


FEEDBACK_API = ObjectRef("Deployment", NAMESPACE, "shop-feedback-api")


def _crash_looping_pod(cluster: FakeCluster) -> None:
    """A feedback API pod, labelled as its Deployment selects, whose container crashes."""
    selector = cluster.objects[FEEDBACK_API]["spec"]["selector"]["matchLabels"]
    container = {
        "name": "feedback-api",
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
    }
    cluster.objects[ObjectRef("Pod", NAMESPACE, "shop-feedback-api-1")] = {
        "metadata": {"name": "shop-feedback-api-1", "namespace": NAMESPACE, "labels": selector},
        "status": {"containerStatuses": [container]},
    }


def test_the_status_says_why_a_component_is_not_ready(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    reconciler.reconcile(body({"environment": "prod"}))
    _crash_looping_pod(cluster)
    status = reconciler.reconcile(body({"environment": "prod"})).status
    assert status["feedbackApi"]["notReady"]["reason"] == "CrashLooping"
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "CrashLooping"
    assert "last exit code 1 (Error)" in ready["message"]


def test_pods_and_events_are_not_read_while_every_component_is_ready(
    cluster: FakeCluster, reconciler: Reconciler, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconciler.reconcile(body({"environment": "prod"}))
    for ref, found in cluster.objects.items():
        if ref.kind == "Deployment":
            wanted = found["spec"].get("replicas", 1)
            found["metadata"]["generation"] = 1
            found["status"] = {
                "observedGeneration": 1,
                **dict.fromkeys(
                    ("replicas", "readyReplicas", "updatedReplicas", "availableReplicas"), wanted
                ),
            }
    listed: list[str] = []

    def list_objects(kind: str, *_: object) -> list[object]:
        listed.append(kind)
        return []

    monkeypatch.setattr(cluster, "list_objects", list_objects)
    reconciler.reconcile(body({"environment": "prod"}))
    assert listed == []


def test_a_refused_read_of_pods_leaves_the_status_without_a_cause(
    cluster: FakeCluster, reconciler: Reconciler, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*_: object) -> list[dict[str, object]]:
        raise ApiError(403, "Forbidden", "pods is forbidden")

    reconciler.reconcile(body({"environment": "prod"}))
    _crash_looping_pod(cluster)
    monkeypatch.setattr(cluster, "list_objects", forbidden)
    outcome = reconciler.reconcile(body({"environment": "prod"}))
    assert "notReady" not in outcome.status["feedbackApi"]
    assert outcome.problems == []
