"""The small pure parts of the handlers: mapping a child back to its SoraDeployment."""

from __future__ import annotations

from sora_operator.handlers import CHILD_RESOURCES, parent_of


def test_a_child_maps_to_the_soradeployment_named_by_its_instance_label() -> None:
    child = {
        "metadata": {"namespace": "ns", "labels": {"app.kubernetes.io/instance": "shop"}},
    }
    assert parent_of(child) == ("ns", "shop")


def test_an_unlabelled_object_maps_to_nothing() -> None:
    assert parent_of({"metadata": {"namespace": "ns", "labels": {}}}) is None


def test_secrets_are_not_watched_so_the_operator_needs_no_cluster_wide_secret_list() -> None:
    assert all(resource[-1] != "secrets" for resource in CHILD_RESOURCES)
