"""`hack/cluster.sh up` gives the cluster the tests use: claims bind, the by-hand path works.

Runs the very command line hack/cluster.sh runs (``python -m tests.support.controlplane
up``), with ``--state-dir`` in a temporary directory so a developer's own cluster is
left alone; then the README's by-hand path: the CRD, the operator, an example.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sora_operator.kube import KubeClient, api_client
from sora_operator.objects import ObjectRef
from tests.integration.operator.cluster_setup import start_operator_process
from tests.integration.operator.support import CRD_PATH, EXAMPLES, REPO_ROOT, wait_ready
from tests.plugins.kube import KubeCluster
from tests.support import controlplane as cp
from tests.support.polling import wait_for


def _cluster_sh(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.support.controlplane", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def up_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``up --nodes 1`` in its own state directory; the kubeconfig it exports; ``down`` after."""
    state = tmp_path_factory.mktemp("cluster-up") / "cluster"
    up = _cluster_sh("up", "--nodes", "1", "--state-dir", str(state))
    try:
        assert up.returncode == 0, up.stderr
        assert up.stdout.strip() == f"export KUBECONFIG={state / 'kubeconfig'}"
        yield state / "kubeconfig"
    finally:
        _cluster_sh("down", "--state-dir", str(state), timeout=60)


def _kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    kubectl = cp.find_tools(["kubectl"])[0]["kubectl"]
    done = subprocess.run(
        [str(kubectl), f"--kubeconfig={kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


CLAIM = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""


def test_a_claim_binds_on_the_cluster_up_starts(up_cluster: Path) -> None:
    _kubectl(up_cluster, "apply", "-f", "-", stdin=CLAIM)
    client = KubeClient(api_client(str(up_cluster)))
    ref = ObjectRef("PersistentVolumeClaim", "default", "data")

    def bound() -> dict[str, object] | None:
        claim = client.get(ref) or {}
        return claim if claim.get("status", {}).get("phase") == "Bound" else None

    claim = wait_for(bound, 60, "the claim to bind")
    assert claim["spec"]["storageClassName"] == "standard"  # type: ignore[index]


def test_the_readme_by_hand_path_becomes_ready(up_cluster: Path, tmp_path: Path) -> None:
    """cluster up, ``kubectl apply -f crds/``, the operator, docs/examples/dev-minimal.yaml."""
    _kubectl(up_cluster, "apply", "--server-side", "-f", str(CRD_PATH.parent))
    tools = cp.find_tools()[0]
    cluster = KubeCluster(up_cluster, str(tools["kubectl"]), str(tools["helm"]), tmp_path / "helm")
    cluster.wait_established("soradeployments.sora.example.com")
    operator = start_operator_process(
        up_cluster,
        tmp_path / "operator.log",
        60,
        POD_NAMESPACE="default",
        POD_NAME="by-hand",
        SORA_OPERATOR_LEASE_NAMESPACE="default",  # as by hand: POD_NAMESPACE's
    )
    try:
        _kubectl(up_cluster, "apply", "-n", "default", "-f", str(EXAMPLES / "dev-minimal.yaml"))
        client = KubeClient(api_client(str(up_cluster)))
        wait_ready(client, "default", "demo", timeout=180)
    finally:
        operator.stop()
