"""The small parts of the handlers: mapping a child back to its SoraDeployment, and
which child events start a reconcile."""

from __future__ import annotations

import logging
from copy import deepcopy
from types import SimpleNamespace
from typing import Any, cast

import kopf

from sora_operator.child_watch import KnownAbsent, SeenChildren
from sora_operator.handlers import CHILD_RESOURCES, child_changed, parent_of
from sora_operator.objects import ObjectRef
from sora_operator.reconcile import Reconciler
from tests.unit.operator.conftest import FakeCluster
from tests.unit.operator.factories import IMAGE, body


def test_a_child_maps_to_the_soradeployment_named_by_its_instance_label() -> None:
    child = {
        "metadata": {"namespace": "ns", "labels": {"app.kubernetes.io/instance": "shop"}},
    }
    assert parent_of(child) == ("ns", "shop")


def test_an_unlabelled_object_maps_to_nothing() -> None:
    assert parent_of({"metadata": {"namespace": "ns", "labels": {}}}) is None


def test_secrets_are_not_watched_so_the_operator_needs_no_cluster_wide_secret_list() -> None:
    assert all(resource[-1] != "secrets" for resource in CHILD_RESOURCES)


class _Runner:
    """Records which SoraDeployments a child event would reconcile."""

    def __init__(self) -> None:
        self.keys: list[tuple[str, str]] = []

    def run(self, key: tuple[str, str], work: object) -> None:
        self.keys.append(key)


def _body(obj: dict[str, Any]) -> kopf.Body:
    return kopf.Body(cast(kopf.RawBody, deepcopy(obj)))


def _memo(reconciler: Reconciler) -> SimpleNamespace:
    return SimpleNamespace(reconciler=reconciler, reconciles=_Runner())


def test_the_echo_of_the_operators_own_write_starts_no_reconcile(
    reconciler: Reconciler, cluster: FakeCluster
) -> None:
    reconciler.reconcile(body())
    written = next(m for m in cluster.objects.values() if m["kind"] == "Service")
    memo = _memo(reconciler)
    log = logging.getLogger("test")
    child_changed(type="ADDED", body=_body(written), memo=memo, logger=log)
    assert memo.reconciles.keys == []

    edited = deepcopy(written)
    edited["metadata"]["resourceVersion"] = "someone-else"
    child_changed(type="MODIFIED", body=_body(edited), memo=memo, logger=log)
    child_changed(type="DELETED", body=_body(written), memo=memo, logger=log)
    assert memo.reconciles.keys == [("sora-prod", "shop")] * 2


def test_seen_children_forget_a_deleted_object() -> None:
    seen = SeenChildren()
    service = {
        "kind": "Service",
        "metadata": {"namespace": "n", "name": "s", "resourceVersion": "7"},
    }
    seen.record(service)
    assert seen.is_seen("MODIFIED", service)
    assert not seen.is_seen("DELETED", service)
    assert len(seen) == 0
    assert not seen.is_seen("ADDED", service)


def _versioned(kind: str, version: str, generation: int) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {
            "namespace": "n",
            "name": "x",
            "resourceVersion": version,
            "generation": generation,
        },
    }


def test_a_status_update_of_a_kind_whose_status_is_never_read_starts_no_reconcile() -> None:
    seen = SeenChildren()
    seen.record(_versioned("HorizontalPodAutoscaler", "7", 1))
    assert seen.is_seen("MODIFIED", _versioned("HorizontalPodAutoscaler", "8", 1))
    # A spec edit bumps the generation: it is drift to repair.
    assert not seen.is_seen("MODIFIED", _versioned("HorizontalPodAutoscaler", "9", 2))


def test_a_status_update_of_a_deployment_starts_a_reconcile() -> None:
    """The status of a Deployment is what Ready is made of."""
    seen = SeenChildren()
    seen.record(_versioned("Deployment", "7", 1))
    assert not seen.is_seen("MODIFIED", _versioned("Deployment", "8", 1))


def test_a_version_a_reconcile_read_starts_no_reconcile(
    reconciler: Reconciler, cluster: FakeCluster
) -> None:
    reconciler.reconcile(body())
    live = next(m for m in cluster.objects.values() if m["kind"] == "Deployment")
    changed = deepcopy(live)
    changed["metadata"]["resourceVersion"] = "status-update"
    cluster.objects[next(k for k, v in cluster.objects.items() if v is live)] = changed
    reconciler.reconcile(body())  # reads the new version and finds nothing to write
    memo = _memo(reconciler)
    child_changed(type="MODIFIED", body=_body(changed), memo=memo, logger=logging.getLogger("t"))
    assert memo.reconciles.keys == []


def test_a_turned_off_child_found_absent_is_not_looked_up_again_until_an_event_or_the_ttl(
    cluster: FakeCluster,
) -> None:
    now = [0.0]
    absent = KnownAbsent(ttl=300, clock=lambda: now[0])
    values = {"ENCRYPTION_KEY": "e" * 43, "IP_SALT": "s" * 43, "ADMIN_TOKEN": "a" * 43}
    reconciler = Reconciler(
        cluster,
        IMAGE,
        clock=lambda: "2026-01-01T00:00:00Z",
        generate_secret_values=lambda: values,
        known_absent=absent,
    )
    reads: list[ObjectRef] = []
    get = cluster.get

    def recorded_get(ref: ObjectRef) -> dict[str, Any] | None:
        reads.append(ref)
        return get(ref)

    cluster.get = recorded_get  # type: ignore[method-assign]
    turned_off = ObjectRef("Ingress", "sora-prod", "shop")
    platform = body({"environment": "dev", "ingress": {"enabled": False}})

    reconciler.reconcile(platform)
    assert turned_off in reads
    reads.clear()
    reconciler.reconcile(platform)
    assert turned_off not in reads  # trusted: found absent a moment ago

    leftover = {"kind": "Ingress", "metadata": {"namespace": "sora-prod", "name": "shop"}}
    absent.seen(leftover)  # a watch event: someone made one
    reconciler.reconcile(platform)
    assert turned_off in reads
    reads.clear()
    now[0] = 301.0
    reconciler.reconcile(platform)
    assert turned_off in reads  # the trust ran out

    reconciler.reconcile(body({"environment": "dev"}))  # turned on: created
    reads.clear()
    reconciler.reconcile(platform)  # and off again before any watch event
    assert turned_off in reads
    assert turned_off not in cluster.objects
