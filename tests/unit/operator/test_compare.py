"""The live-versus-desired comparison that keeps a converged reconcile write-free."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from sora_operator.compare import FINGERPRINT_ANNOTATION, differences, fingerprinted


def _deployment(**container: Any) -> dict[str, Any]:
    base = {"name": "app", "image": "img:1", "resources": {"limits": {"cpu": "500m"}}}
    return {
        "metadata": {"name": "d", "labels": {"a": "1"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{**base, **container}]}}},
    }


def test_identical_objects_have_no_differences() -> None:
    assert differences(_deployment(), _deployment()) == []


def test_fields_only_the_server_set_are_not_differences() -> None:
    live = _deployment()
    live["spec"]["progressDeadlineSeconds"] = 600
    live["metadata"]["resourceVersion"] = "42"
    live["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/x"
    assert differences(_deployment(), live) == []


def test_a_changed_scalar_is_reported_by_path() -> None:
    live = _deployment()
    live["spec"]["replicas"] = 5
    assert differences(_deployment(), live) == ["spec.replicas"]


def test_a_missing_label_is_a_difference() -> None:
    live = _deployment()
    del live["metadata"]["labels"]["a"]
    assert differences(_deployment(), live) == ["metadata.labels.a"]


def test_equal_quantities_in_another_notation_are_not_a_difference() -> None:
    live = _deployment(resources={"limits": {"cpu": "0.5"}})
    assert differences(_deployment(), live) == []


def test_a_different_quantity_is_a_difference() -> None:
    live = _deployment(resources={"limits": {"cpu": "1"}})
    assert differences(_deployment(), live) == [
        "spec.template.spec.containers[0].resources.limits.cpu"
    ]


def test_list_items_are_matched_by_name_not_position() -> None:
    desired = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    live = {"env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]}
    assert differences(desired, live) == []


def test_an_item_someone_else_added_is_not_a_difference() -> None:
    desired = {"env": [{"name": "A", "value": "1"}]}
    live = {"env": [{"name": "A", "value": "1"}, {"name": "INJECTED", "value": "x"}]}
    assert differences(desired, live) == []


def test_a_missing_item_is_a_difference() -> None:
    desired = {"env": [{"name": "A", "value": "1"}]}
    assert differences(desired, {"env": []}) == ["env[0]"]


def test_lists_of_scalars_must_be_equal() -> None:
    desired = {"command": ["sora-file-server"]}
    assert differences(desired, {"command": ["sh", "-c", "evil"]}) == ["command"]


def test_an_empty_desired_mapping_matches_an_absent_one() -> None:
    assert differences({"emptyDir": {}}, {}) == []


def test_fingerprint_is_added_as_an_annotation() -> None:
    manifest = fingerprinted(_deployment())
    assert FINGERPRINT_ANNOTATION in manifest["metadata"]["annotations"]


def test_fingerprint_does_not_change_the_input() -> None:
    original = _deployment()
    fingerprinted(original)
    assert original == _deployment()


def test_removing_a_desired_field_changes_the_fingerprint() -> None:
    with_label = fingerprinted(_deployment())
    without = _deployment()
    del without["metadata"]["labels"]["a"]
    assert differences(fingerprinted(without), deepcopy(with_label)) == [
        f"metadata.annotations.{FINGERPRINT_ANNOTATION}"
    ]
