"""Both charts on the local control plane (tests/plugins/kube.py).

kwok simulates the pods, so the operator the chart deploys never runs. To show that a
platform chart release becomes Ready, the real ``sora-operator`` runs as a local process
with the token of the ServiceAccount the operator chart created: the chart supplies the
CRD and the RBAC, and the test proves that RBAC is enough.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.charts.support import (
    OPERATOR_CHART,
    PLATFORM_CHART,
    case_id,
    documents,
    rbac_documents,
    values_args,
    values_cases,
)
from tests.integration.operator.cluster_setup import operator_environment
from tests.integration.operator.support import condition, wait_ready
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for
from tests.support.processes import Service, free_port, program, start_process
from tests.support.volumes import VolumeProvisioner

OPERATOR_NAMESPACE = "sora-chart-system"
#: Not "sora-operator": the operator's own tests bind rbac.yaml's ClusterRole of that name.
OPERATOR_RELEASE = "sora-operator-chart"
CRD_NAME = "soradeployments.sora.example.com"
#: Kinds whose API the local control plane does not serve (the Prometheus Operator's).
UNSERVED_KINDS = {"ServiceMonitor"}


@dataclass(frozen=True)
class OperatorRelease:
    namespace: str
    release: str
    service_account: str


@pytest.fixture(scope="module")
def admin(kube_cluster: KubeCluster) -> KubeClient:
    return KubeClient(kube_cluster.api_client(), field_manager="sora-chart-tests")


def adopt_crd(cluster: KubeCluster) -> None:
    """The documented path for a CRD applied before the chart: hand it to the release.

    (The operator's own tests apply crds/ with kubectl; whichever runs first wins.)
    """
    found = cluster.kubectl("get", "crd", CRD_NAME, "-o", "name", check=False)
    if found.returncode != 0:
        return
    cluster.kubectl("label", "--overwrite", "crd", CRD_NAME, "app.kubernetes.io/managed-by=Helm")
    cluster.kubectl(
        "annotate",
        "--overwrite",
        "crd",
        CRD_NAME,
        f"meta.helm.sh/release-name={OPERATOR_RELEASE}",
        f"meta.helm.sh/release-namespace={OPERATOR_NAMESPACE}",
    )


@pytest.fixture(scope="module")
def operator_release(kube_cluster: KubeCluster) -> Iterator[OperatorRelease]:
    adopt_crd(kube_cluster)
    kube_cluster.helm(
        "install",
        OPERATOR_RELEASE,
        str(OPERATOR_CHART),
        "--namespace",
        OPERATOR_NAMESPACE,
        "--create-namespace",
        "--set",
        "image.tag=test",
        "--wait",
        "--timeout",
        "180s",
    )
    kube_cluster.wait_established(CRD_NAME)
    try:
        yield OperatorRelease(OPERATOR_NAMESPACE, OPERATOR_RELEASE, OPERATOR_RELEASE)
    finally:
        kube_cluster.helm("uninstall", OPERATOR_RELEASE, "-n", OPERATOR_NAMESPACE, check=False)
        kube_cluster.kubectl("delete", "namespace", OPERATOR_NAMESPACE, "--wait=false", check=False)


def service_account_kubeconfig(
    cluster: KubeCluster, release: OperatorRelease, destination: Path
) -> Path:
    token = cluster.kubectl(
        "create", "token", release.service_account, "-n", release.namespace, "--duration=2h"
    ).stdout.strip()
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    for user in config["users"]:
        user["user"] = {"token": token}
    destination.write_text(yaml.safe_dump(config))
    return destination


@pytest.fixture(scope="module")
def chart_operator(
    kube_cluster: KubeCluster,
    operator_release: OperatorRelease,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    """``sora-operator`` as a local process with the chart's ServiceAccount and RBAC."""
    directory = tmp_path_factory.mktemp("chart-operator")
    kubeconfig = service_account_kubeconfig(
        kube_cluster, operator_release, directory / "kubeconfig"
    )
    metrics_port, liveness_port = free_port(), free_port()
    env = operator_environment(
        kubeconfig,
        metrics_port,
        liveness_port,
        POD_NAME="chart-test-operator",
        SORA_OPERATOR_LEASE_NAMESPACE=operator_release.namespace,
        SORA_OPERATOR_LEASE_NAME=f"sora-operator-charts-{zlib.crc32(str(directory).encode()):08x}",
        SORA_OPERATOR_RESYNC_SECONDS="5",
        SORA_OPERATOR_LEASE_DURATION="4",
        SORA_OPERATOR_LEASE_RENEW_DEADLINE="3",
        SORA_OPERATOR_LEASE_RETRY_PERIOD="0.5",
    )
    with VolumeProvisioner(kube_cluster.api_client()):
        service = start_process(
            [program("sora-operator")],
            env,
            directory / "operator.log",
            port=metrics_port,
            ready_path="/metrics",
            timeout=60,
        )
        try:
            yield service
        finally:
            service.stop()


def install_platform(cluster: KubeCluster, namespace: str, *args: str) -> None:
    cluster.helm(
        "install",
        "sora",
        str(PLATFORM_CHART),
        "--namespace",
        namespace,
        "--set",
        "environment=dev",
        *args,
    )


def get(admin: KubeClient, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    return admin.get(ObjectRef(kind, namespace, name))


# --- the operator chart ---------------------------------------------------------------


def test_operator_chart_installs_with_crd_rbac_and_deployment(
    kube_cluster: KubeCluster, operator_release: OperatorRelease
) -> None:
    crd = kube_cluster.get_json("crd", CRD_NAME)
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert crd["metadata"]["annotations"]["meta.helm.sh/release-name"] == OPERATOR_RELEASE
    deployment = kube_cluster.get_json(
        "deployment", operator_release.release, "-n", operator_release.namespace
    )
    assert deployment["status"].get("availableReplicas") == deployment["spec"]["replicas"]
    can = kube_cluster.kubectl(
        "auth",
        "can-i",
        "patch",
        "soradeployments.sora.example.com/status",
        f"--as=system:serviceaccount:{operator_release.namespace}:{operator_release.service_account}",
        "-n",
        "default",
        check=False,
    )
    assert can.stdout.strip() == "yes"
    cannot = kube_cluster.kubectl(
        "auth",
        "can-i",
        "list",
        "secrets",
        f"--as=system:serviceaccount:{operator_release.namespace}:{operator_release.service_account}",
        "-n",
        "default",
        check=False,
    )
    assert cannot.stdout.strip() == "no"


CASES = values_cases()


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_rendered_chart_passes_server_side_dry_run(
    kube_cluster: KubeCluster,
    operator_release: OperatorRelease,
    kube_namespace: str,
    case: tuple[Path, Path | None],
) -> None:
    chart, values = case
    args = [*values_args(values)]
    if values and "watchNamespaces" in (yaml.safe_load(values.read_text()) or {}):
        args += ["--set", f"watchNamespaces={{{kube_namespace}}}"]
    rendered = kube_cluster.helm(
        "template", "dry", str(chart), "--namespace", kube_namespace, *args
    ).stdout
    served = [d for d in documents(rendered) if d["kind"] not in UNSERVED_KINDS]
    assert served
    result = kube_cluster.kubectl(
        "apply",
        "--dry-run=server",
        "-n",
        kube_namespace,
        "-f",
        "-",
        input=yaml.safe_dump_all(served),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("(server dry run)") == len(served)


def test_helm_test_hook_is_created_by_helm_test(
    kube_cluster: KubeCluster, operator_release: OperatorRelease
) -> None:
    """kwok never runs the pod, so only the hook's creation is checked here (kind runs it)."""
    result = kube_cluster.helm(
        "test",
        operator_release.release,
        "-n",
        operator_release.namespace,
        "--timeout",
        "5s",
        check=False,
    )
    pod = kube_cluster.kubectl(
        "get",
        "pod",
        f"{operator_release.release}-test-metrics",
        "-n",
        operator_release.namespace,
        "-o",
        "name",
        check=False,
    )
    assert pod.returncode == 0, result.stderr


# --- the platform chart with the operator running ----------------------------------------


def test_platform_release_becomes_ready(
    kube_cluster: KubeCluster, chart_operator: Service, admin: KubeClient, kube_namespace: str
) -> None:
    install_platform(kube_cluster, kube_namespace)
    body = wait_ready(admin, kube_namespace, "sora", timeout=120)
    assert body["status"]["secretName"] == "sora-secrets"
    secret = get(admin, "Secret", kube_namespace, "sora-secrets")
    assert secret is not None
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert get(admin, "Deployment", kube_namespace, "sora-file-server") is not None


def test_helm_upgrade_changes_the_soradeployment_and_rolls_out(
    kube_cluster: KubeCluster, chart_operator: Service, admin: KubeClient, kube_namespace: str
) -> None:
    install_platform(kube_cluster, kube_namespace, "--set", "image.tag=1.0.0")
    wait_ready(admin, kube_namespace, "sora", timeout=120)
    secret_before = get(admin, "Secret", kube_namespace, "sora-secrets")
    assert secret_before is not None

    kube_cluster.helm(
        "upgrade",
        "sora",
        str(PLATFORM_CHART),
        "-n",
        kube_namespace,
        "--reuse-values",
        "--set",
        "image.tag=1.1.0",
    )

    def rolled_out() -> bool:
        deployment = get(admin, "Deployment", kube_namespace, "sora-file-server") or {}
        containers = deployment.get("spec", {}).get("template", {}).get("spec", {})
        images = [c["image"] for c in containers.get("containers", [])]
        return bool(images) and all(image.endswith(":1.1.0") for image in images)

    wait_for(rolled_out, 90, "the file server Deployment to run image tag 1.1.0")
    sora = get(admin, "SoraDeployment", kube_namespace, "sora") or {}
    assert sora["spec"]["image"]["tag"] == "1.1.0"

    def ready_for_new_generation() -> dict[str, Any] | None:
        body = get(admin, "SoraDeployment", kube_namespace, "sora") or {}
        status = body.get("status") or {}
        current = status.get("observedGeneration") == body["metadata"]["generation"]
        return body if current and condition(body, "Ready").get("status") == "True" else None

    wait_for(ready_for_new_generation, 120, "Ready for the upgraded spec")
    secret_after = get(admin, "Secret", kube_namespace, "sora-secrets")
    assert secret_after is not None
    assert secret_after["data"] == secret_before["data"], "the upgrade regenerated the Secret"


def test_helm_uninstall_removes_the_platform_and_keeps_database_and_secret(
    kube_cluster: KubeCluster, chart_operator: Service, admin: KubeClient, kube_namespace: str
) -> None:
    install_platform(kube_cluster, kube_namespace)
    wait_ready(admin, kube_namespace, "sora", timeout=120)
    secret_before = get(admin, "Secret", kube_namespace, "sora-secrets")
    assert secret_before is not None

    kube_cluster.helm("uninstall", "sora", "-n", kube_namespace, "--wait", "--timeout", "60s")

    def platform_gone() -> bool:
        return not any(
            get(admin, kind, kube_namespace, name)
            for kind, name in (
                ("SoraDeployment", "sora"),
                ("Deployment", "sora-file-server"),
                ("Deployment", "sora-feedback-api"),
                ("Service", "sora-file-server"),
            )
        )

    wait_for(platform_gone, 90, "the SoraDeployment and its children to be deleted")
    assert get(admin, "PersistentVolumeClaim", kube_namespace, "sora-feedback-db") is not None
    kept = get(admin, "Secret", kube_namespace, "sora-secrets")
    assert kept is not None
    assert kept["data"] == secret_before["data"]


def test_reinstall_after_uninstall_adopts_the_kept_secret(
    kube_cluster: KubeCluster, chart_operator: Service, admin: KubeClient, kube_namespace: str
) -> None:
    install_platform(kube_cluster, kube_namespace)
    wait_ready(admin, kube_namespace, "sora", timeout=120)
    secret_before = get(admin, "Secret", kube_namespace, "sora-secrets")
    assert secret_before is not None
    kube_cluster.helm("uninstall", "sora", "-n", kube_namespace, "--wait", "--timeout", "60s")
    wait_for(
        lambda: get(admin, "SoraDeployment", kube_namespace, "sora") is None,
        60,
        "the SoraDeployment to be deleted",
    )

    install_platform(kube_cluster, kube_namespace)

    body = wait_ready(admin, kube_namespace, "sora", timeout=120)
    assert condition(body, "Degraded").get("status") != "True"
    secret_after = get(admin, "Secret", kube_namespace, "sora-secrets")
    assert secret_after is not None
    assert secret_after["data"] == secret_before["data"]
    with contextlib.suppress(Exception):
        kube_cluster.helm("uninstall", "sora", "-n", kube_namespace, check=False)


def test_chart_splits_rbac_by_the_scope_the_api_server_reports(kube_cluster: KubeCluster) -> None:
    """With watchNamespaces, exactly the cluster-scoped resources of rbac.yaml stay cluster-wide."""
    listed = kube_cluster.kubectl("api-resources", "--namespaced=false", "-o", "name").stdout
    cluster_scoped = {line.split(".")[0] for line in listed.split()}
    rbac_resources = {
        resource.split("/")[0]
        for document in rbac_documents().values()
        for rule in document["rules"]
        for resource in rule["resources"]
    }
    rendered = kube_cluster.helm(
        "template", "x", str(OPERATOR_CHART), "--set", "watchNamespaces={a}"
    ).stdout
    (cluster_role,) = [d for d in documents(rendered) if d["kind"] == "ClusterRole"]
    kept = {resource for rule in cluster_role["rules"] for resource in rule["resources"]}
    assert kept == rbac_resources & cluster_scoped
