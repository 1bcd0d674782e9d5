"""The operator's ClusterRole (rbac.yaml) grants what it needs and no more.

That it is enough is shown by every other test here: they run the operator with a
token bound to exactly this file.
"""

from __future__ import annotations

import pytest

from tests.integration.operator.cluster_setup import OPERATOR_ACCOUNT
from tests.integration.operator.conftest import OperatorAccess
from tests.plugins.kube import KubeCluster


def _can(kube_cluster: KubeCluster, access: OperatorAccess, *request: str) -> bool:
    subject = f"system:serviceaccount:{access.namespace}:{OPERATOR_ACCOUNT}"
    result = kube_cluster.kubectl("auth", "can-i", *request, f"--as={subject}", check=False)
    return result.stdout.strip() == "yes"


@pytest.mark.parametrize("verb", ["list", "watch", "update", "patch", "delete"])
def test_the_operator_cannot_read_all_secrets_or_change_any(
    kube_cluster: KubeCluster, operator_access: OperatorAccess, verb: str
) -> None:
    assert not _can(kube_cluster, operator_access, verb, "secrets", "-A")


@pytest.mark.parametrize("verb", ["get", "create"])
def test_the_operator_can_read_and_create_a_named_secret(
    kube_cluster: KubeCluster, operator_access: OperatorAccess, verb: str
) -> None:
    assert _can(kube_cluster, operator_access, verb, "secrets", "-n", "default")


@pytest.mark.parametrize("resource", ["persistentvolumeclaims"])
def test_the_operator_never_deletes_children_the_garbage_collector_owns(
    kube_cluster: KubeCluster, operator_access: OperatorAccess, resource: str
) -> None:
    assert not _can(kube_cluster, operator_access, "delete", resource, "-A")


@pytest.mark.parametrize(
    "resource",
    ["deployments", "services", "networkpolicies.networking.k8s.io", "serviceaccounts"],
)
def test_the_operator_may_delete_the_admin_panels_children_when_it_is_turned_off(
    kube_cluster: KubeCluster, operator_access: OperatorAccess, resource: str
) -> None:
    assert _can(kube_cluster, operator_access, "delete", resource, "-n", "default")


def test_the_operator_cannot_touch_pods(
    kube_cluster: KubeCluster, operator_access: OperatorAccess
) -> None:
    assert not _can(kube_cluster, operator_access, "create", "pods", "-A")


def test_the_operator_holds_leases_only_in_its_own_namespace(
    kube_cluster: KubeCluster, operator_access: OperatorAccess
) -> None:
    assert _can(kube_cluster, operator_access, "update", "leases", "-n", operator_access.namespace)
    assert not _can(kube_cluster, operator_access, "update", "leases", "-n", "default")
