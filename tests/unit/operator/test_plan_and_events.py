"""The pure halves of a reconcile: the writes planned from what was observed (plan.py)
and the Events announced from the status it computed (events.py)."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest

from sora_operator import plan
from sora_operator.builders.desired import desired_state
from sora_operator.compare import fingerprinted
from sora_operator.events import Event, reconcile_events
from sora_operator.objects import ObjectRef, ref_of
from sora_operator.reconcile import random_secret_values
from tests.unit.operator.factories import make_sora_deployment

SHOP = make_sora_deployment("prod")


def _deployment() -> dict[str, Any]:
    return next(m for m in desired_state(SHOP).manifests if m["kind"] == "Deployment")


def test_a_missing_child_is_created_with_the_hpa_floor_only_when_handed_over() -> None:
    created = plan.child_write(_deployment(), None, SHOP, floor=2, hands_over=True)
    assert created is not None
    assert (created.change.verb, created.floor, created.create_only) == ("Created", 2, False)
    kept = plan.child_write(_deployment(), None, SHOP, floor=2, hands_over=False)
    assert kept is not None
    assert kept.floor is None


def test_an_autoscaled_child_below_the_hpa_floor_is_raised_to_it() -> None:
    # An operator stopped between the create and the floor left the Deployment at one.
    live = fingerprinted(_deployment())
    live["spec"]["replicas"] = 1
    raised = plan.child_write(_deployment(), live, SHOP, floor=2, hands_over=True)
    assert raised is not None
    assert (raised.change.verb, raised.change.fields, raised.floor) == (
        "Updated",
        ("spec.replicas",),
        2,
    )
    live["spec"]["replicas"] = 3  # the HPA's doing, above the floor: left alone
    assert plan.child_write(_deployment(), live, SHOP, floor=2, hands_over=True) is None


def test_a_converged_child_needs_no_write_and_a_drifted_one_names_its_fields() -> None:
    live = fingerprinted(_deployment())
    assert plan.child_write(_deployment(), live, SHOP, floor=None, hands_over=False) is None
    drifted = deepcopy(live)
    drifted["spec"]["template"]["spec"]["containers"][0]["image"] = "someone/else:1"
    update = plan.child_write(_deployment(), drifted, SHOP, floor=None, hands_over=False)
    assert update is not None
    assert update.change.verb == "Updated"
    assert any("image" in name for name in update.change.fields), update.change.fields


def test_a_foreign_object_with_the_childs_name_is_never_planned() -> None:
    foreign = {**_deployment(), "metadata": {"name": _deployment()["metadata"]["name"]}}
    with pytest.raises(plan.UnrealisableError) as refused:
        plan.child_write(_deployment(), foreign, SHOP, floor=None, hands_over=False)
    assert refused.value.problem.reason == "NameTaken"
    assert plan.removal(ref_of(foreign), foreign, SHOP) is None
    ours = _deployment()
    removal = plan.removal(ref_of(ours), ours, SHOP)
    assert removal is not None
    assert removal.manifest is None


def test_a_missing_secret_is_generated_unless_the_data_it_protects_exists() -> None:
    write = plan.secret_write(SHOP, None, None, random_secret_values)
    assert write is not None
    assert write.create_only
    assert write.ref == ObjectRef("Secret", "sora-prod", SHOP.feedback_api.secret_name)
    with pytest.raises(plan.UnrealisableError, match=r"database volume .* exists"):
        plan.secret_write(SHOP, None, {"metadata": {}}, random_secret_values)


def _conditions(**states: tuple[str, str]) -> list[dict[str, str]]:
    return [
        {"type": kind, "status": status, "reason": reason, "message": f"{kind} {reason}"}
        for kind, (status, reason) in states.items()
    ]


def test_condition_events_only_on_news() -> None:
    before = {"conditions": _conditions(Ready=("False", "Pending"), Degraded=("False", "Fine"))}
    after = {"conditions": _conditions(Ready=("True", "Available"), Degraded=("True", "Bad"))}
    assert reconcile_events(before, [], after, after) == [
        Event(False, "Ready", "Ready Available"),
        Event(True, "Bad", "Degraded Bad"),
    ]
    assert reconcile_events(after, [], {}, after) == []


def test_writes_are_announced_first_and_a_failed_backup_job_only_once() -> None:
    change = plan.Change("Created", ObjectRef("Service", "sora-prod", "shop-file-server"))
    failed = {"result": "failed", "job": "shop-backup-1", "message": "no bucket"}
    patch = {
        "lastBackup": failed,
        "conditions": _conditions(BackupHealthy=("False", "BackupFailed")),
    }
    events = reconcile_events({}, [change], patch, {**patch})
    assert events == [
        Event(False, "Created", "Created Service shop-file-server"),
        Event(True, "BackupFailed", "Backup Job shop-backup-1: no bucket"),
    ]
