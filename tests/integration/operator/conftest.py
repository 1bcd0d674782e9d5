"""Fixtures for the operator on the real control plane.

* ``operator_access``: the CRD installed, and a kubeconfig for a ServiceAccount bound
  to exactly ``operator/sora_operator/rbac.yaml`` (so every test also proves the
  RBAC is enough).
* ``volume_provisioner``: StorageClasses, and pending claims bound to PersistentVolumes
  (tests/support/volumes.py, the same provisioner ``hack/cluster.sh up`` runs).
* ``start_operator``: runs ``.venv/bin/sora-operator`` as a real process.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sora_operator.kube import KubeClient
from tests.integration.operator.cluster_setup import (
    OPERATOR_NAMESPACE,
    install_crd,
    operator_kubeconfig,
    start_operator_process,
)
from tests.plugins.kube import KubeCluster
from tests.support.processes import Service
from tests.support.volumes import VolumeProvisioner


@dataclass(frozen=True)
class OperatorAccess:
    kubeconfig: Path
    namespace: str


@pytest.fixture(scope="session")
def admin(kube_cluster: KubeCluster) -> KubeClient:
    """A client with the cluster admin's rights, for the tests' own reads and writes."""
    return KubeClient(kube_cluster.api_client(), field_manager="sora-tests")


@pytest.fixture(scope="session")
def operator_access(
    kube_cluster: KubeCluster, tmp_path_factory: pytest.TempPathFactory
) -> OperatorAccess:
    install_crd(kube_cluster)
    destination = tmp_path_factory.mktemp("operator") / "kubeconfig"
    return OperatorAccess(operator_kubeconfig(kube_cluster, destination), OPERATOR_NAMESPACE)


@pytest.fixture(scope="session")
def volume_provisioner(kube_cluster: KubeCluster) -> Iterator[None]:
    """Binds claims to volumes (the control plane has no storage driver)."""
    with VolumeProvisioner(kube_cluster.api_client()):
        yield


StartOperator = Callable[..., Service]


@pytest.fixture
def start_operator(
    operator_access: OperatorAccess,
    volume_provisioner: None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[StartOperator]:
    """Start ``sora-operator`` processes watching the given namespaces; all stopped after.

    Short lease timings and a 5 s resync keep the tests fast; each test gets its own
    lease, so tests never contend with each other for leadership.
    """
    started: list[Service] = []
    lease = f"sora-operator-{zlib.crc32(request.node.nodeid.encode()):08x}"

    def start(*namespaces: str, identity: str = "operator-0", **extra_env: str) -> Service:
        service = start_operator_process(
            operator_access.kubeconfig,
            tmp_path / f"{identity}-{len(started)}.log",
            POD_NAME=identity,
            SORA_OPERATOR_NAMESPACES=",".join(namespaces),
            SORA_OPERATOR_RESYNC_SECONDS="5",
            SORA_OPERATOR_LEASE_NAME=lease,
            SORA_OPERATOR_LEASE_DURATION="4",
            SORA_OPERATOR_LEASE_RENEW_DEADLINE="3",
            SORA_OPERATOR_LEASE_RETRY_PERIOD="0.5",
            **extra_env,
        )
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
