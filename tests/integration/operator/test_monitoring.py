"""spec.monitoring on the control plane, without and then with the Prometheus Operator's CRDs.

The CRDs are the real ones (hack/monitoring-crds.sh fetches them from the Prometheus
Operator's Go module), so "accepted" means accepted by their schemas. The tests
install them themselves and remove them afterwards: the rest of the suite runs
without them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from sora_contract.monitoring import alert_rules
from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.conftest import StartOperator
from tests.integration.operator.support import (
    REPO_ROOT,
    condition,
    resource_versions,
    sora_deployment,
    wait_ready,
    wait_two_resyncs,
)
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for

NAME = "watched"
API = "monitoring.coreos.com/v1"
CRD_NAMES = ("servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com")
MONITORING = {
    "serviceMonitors": {"enabled": True},
    "prometheusRule": {"enabled": True},
    "dashboard": {"enabled": True},
    "labels": {"release": "kube-prometheus-stack"},
}


@pytest.fixture(scope="module")
def crd_directory() -> Path:
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "hack" / "monitoring-crds.sh")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        reason = f"the Prometheus Operator CRDs cannot be fetched: {result.stderr[-1000:]}"
        print(reason)
        pytest.skip(reason)
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def removes_monitoring_crds(kube_cluster: KubeCluster) -> Iterator[None]:
    """Whatever a test installs, the next one starts without the CRDs."""
    yield
    kube_cluster.kubectl("delete", "crd", *CRD_NAMES, "--ignore-not-found", "--wait=true")


def _install_crds(kube_cluster: KubeCluster, directory: Path) -> None:
    for crd in sorted(directory.glob("*.yaml")):
        kube_cluster.kubectl("apply", "--server-side", "-f", str(crd))
    kube_cluster.wait_established(*CRD_NAMES)


def _sora(admin: KubeClient, namespace: str) -> dict[str, Any]:
    found = admin.get(ObjectRef("SoraDeployment", namespace, NAME))
    assert found is not None
    return found


def _monitoring_state(admin: KubeClient, namespace: str) -> str | None:
    return ((_sora(admin, namespace).get("status") or {}).get("monitoring") or {}).get("state")


def _events(kube_cluster: KubeCluster, namespace: str, reason: str) -> list[dict[str, Any]]:
    found = kube_cluster.get_json(
        "events", "-n", namespace, "--field-selector", f"involvedObject.name={NAME}"
    )["items"]
    return [event for event in found if event.get("reason") == reason]


def _monitoring_objects(namespace: str) -> list[ObjectRef]:
    return [
        ObjectRef("ServiceMonitor", namespace, f"{NAME}-file-server"),
        ObjectRef("ServiceMonitor", namespace, f"{NAME}-feedback-api"),
        ObjectRef("PrometheusRule", namespace, NAME),
    ]


def test_without_the_crds_the_platform_is_ready_and_says_what_it_skipped(
    kube_cluster: KubeCluster,
    admin: KubeClient,
    start_operator: StartOperator,
    kube_namespace: str,
    crd_directory: Path,
    removes_monitoring_crds: None,
) -> None:
    assert admin.served_kinds(API) == frozenset(), "the CRDs must be absent for this test"
    operator = start_operator(kube_namespace)
    kube_cluster.apply(
        sora_deployment(NAME, kube_namespace, {"environment": "dev", "monitoring": MONITORING})
    )
    wait_ready(admin, kube_namespace, NAME)
    wait_for(lambda: _monitoring_state(admin, kube_namespace) == "Skipped", 30, "Skipped")
    body = _sora(admin, kube_namespace)
    assert condition(body, "Degraded")["status"] == "False"
    message = body["status"]["monitoring"]["message"]
    assert "PrometheusRule and ServiceMonitor" in message
    assert API in message
    dashboard = admin.get(ObjectRef("ConfigMap", kube_namespace, f"{NAME}-dashboard"))
    assert dashboard is not None, "the dashboard needs no CRD"
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    # Two more resyncs later, still exactly one Event.
    wait_for(lambda: _events(kube_cluster, kube_namespace, "MonitoringSkipped"), 30, "the Event")
    wait_two_resyncs(operator)
    skipped = _events(kube_cluster, kube_namespace, "MonitoringSkipped")
    assert len(skipped) == 1
    assert skipped[0]["type"] == "Warning"

    # The CRDs appear: the next pass creates the objects, and says so once.
    _install_crds(kube_cluster, crd_directory)
    for ref in _monitoring_objects(kube_namespace):
        wait_for(partial(admin.get, ref), 60, f"{ref} after the CRDs appeared")
    wait_for(lambda: _monitoring_state(admin, kube_namespace) == "Applied", 30, "Applied")
    assert len(_events(kube_cluster, kube_namespace, "MonitoringApplied")) == 1
    assert len(_events(kube_cluster, kube_namespace, "MonitoringSkipped")) == 1


def test_with_the_crds_the_objects_are_accepted_repaired_and_removed(
    kube_cluster: KubeCluster,
    admin: KubeClient,
    start_operator: StartOperator,
    kube_namespace: str,
    crd_directory: Path,
    removes_monitoring_crds: None,
) -> None:
    _install_crds(kube_cluster, crd_directory)
    operator = start_operator(kube_namespace)
    kube_cluster.apply(
        sora_deployment(NAME, kube_namespace, {"environment": "dev", "monitoring": MONITORING})
    )
    wait_ready(admin, kube_namespace, NAME)
    monitors = [
        wait_for(partial(admin.get, ref), 60, str(ref))
        for ref in _monitoring_objects(kube_namespace)
    ]
    wait_for(lambda: _monitoring_state(admin, kube_namespace) == "Applied", 30, "Applied")
    file_server_monitor, _, rule = monitors
    assert file_server_monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    endpoint = file_server_monitor["spec"]["endpoints"][0]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    # Stored as sent: the schema pruned nothing from the rules.
    assert rule["spec"] == alert_rules(kube_namespace, NAME)

    # Converged: two resyncs later nothing was written again (no drift against the CRDs'
    # defaults).
    refs = _monitoring_objects(kube_namespace)
    before = resource_versions(admin, refs)
    wait_two_resyncs(operator)
    assert resource_versions(admin, refs) == before

    # Drift: a deleted ServiceMonitor comes back (the operator watches them).
    deleted = _monitoring_objects(kube_namespace)[0]
    uid = file_server_monitor["metadata"]["uid"]
    admin.delete(deleted)
    wait_for(
        lambda: (admin.get(deleted) or {}).get("metadata", {}).get("uid") not in (None, uid),
        30,
        "the ServiceMonitor recreated",
    )

    # Switched off: every monitoring object goes.
    kube_cluster.kubectl(
        "patch", "soradeployment", NAME, "-n", kube_namespace, "--type=json",
        "-p", '[{"op": "remove", "path": "/spec/monitoring"}]',
    )  # fmt: skip
    dashboard = ObjectRef("ConfigMap", kube_namespace, f"{NAME}-dashboard")
    gone = [*_monitoring_objects(kube_namespace), dashboard]
    wait_for(lambda: all(admin.get(ref) is None for ref in gone), 60, "monitoring objects deleted")
    wait_for(lambda: _monitoring_state(admin, kube_namespace) == "Disabled", 30, "Disabled")
