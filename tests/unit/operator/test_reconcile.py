"""Compare-and-apply against an in-memory cluster: what gets written, and what never does."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from copy import deepcopy
from typing import Any

import pytest

from sora_operator.kube import ApiError
from sora_operator.objects import ObjectRef, ref_of
from sora_operator.reconcile import Reconciler
from tests.unit.operator.factories import IMAGE, body

NAMESPACE = "sora-prod"
SECRET = ObjectRef("Secret", NAMESPACE, "shop-secrets")
CLAIM = ObjectRef("PersistentVolumeClaim", NAMESPACE, "shop-feedback-db")
FILE_SERVER = ObjectRef("Deployment", NAMESPACE, "shop-file-server")
INGRESS = ObjectRef("Ingress", NAMESPACE, "shop")


class FakeCluster:
    """Stores what is applied; counts writes; can refuse chosen objects."""

    def __init__(self) -> None:
        self.objects: dict[ObjectRef, dict[str, Any]] = {}
        self.writes: list[tuple[str, ObjectRef]] = []
        self.refuse: dict[ObjectRef, ApiError] = {}
        #: What monitoring.coreos.com/v1 serves (the Prometheus Operator's CRDs).
        self.monitoring_kinds = frozenset({"ServiceMonitor", "PrometheusRule"})

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        found = self.objects.get(ref)
        return deepcopy(found) if found is not None else None

    def apply(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        ref = ref_of(manifest)
        self._check(ref)
        self.writes.append(("apply", ref))
        stored = deepcopy(dict(manifest))
        stored["metadata"]["resourceVersion"] = str(len(self.writes))
        self.objects[ref] = stored
        return deepcopy(stored)

    def create(self, manifest: Mapping[str, Any]) -> dict[str, Any] | None:
        ref = ref_of(manifest)
        if ref in self.objects:
            return None
        self.writes.append(("create", ref))
        stored = deepcopy(dict(manifest))
        data = stored.pop("stringData", {})
        stored["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        self.objects[ref] = stored
        return deepcopy(stored)

    def delete(self, ref: ObjectRef) -> None:
        self.writes.append(("delete", ref))
        self.objects.pop(ref, None)

    def served_kinds(self, api_version: str) -> frozenset[str]:
        assert api_version == "monitoring.coreos.com/v1"
        return self.monitoring_kinds

    def _check(self, ref: ObjectRef) -> None:
        if ref in self.refuse:
            raise self.refuse[ref]


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def reconciler(cluster: FakeCluster) -> Reconciler:
    values = {"ENCRYPTION_KEY": "e" * 43, "IP_SALT": "s" * 43, "ADMIN_TOKEN": "a" * 43}
    return Reconciler(
        cluster, IMAGE, clock=lambda: "2026-01-01T00:00:00Z", generate_secret_values=lambda: values
    )


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
