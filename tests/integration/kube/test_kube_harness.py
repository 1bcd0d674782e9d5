"""The control-plane harness itself: real API server validation and real controllers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.plugins.kube import CommandError, KubeCluster
from tests.support import controlplane as cp

T = TypeVar("T")
PAUSE_REPOSITORY, PAUSE_TAG = "registry.k8s.io/pause", "3.10"
PAUSE_IMAGE = f"{PAUSE_REPOSITORY}:{PAUSE_TAG}"  # never pulled: kwok only simulates pods


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": PAUSE_IMAGE}]},
            },
        },
    }


def job_spec() -> dict[str, Any]:
    return {
        "backoffLimit": 0,
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": PAUSE_IMAGE}],
            }
        },
    }


def test_server_reports_the_pinned_version(kube_cluster: KubeCluster) -> None:
    version = json.loads(kube_cluster.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == cp.KUBERNETES_VERSION
    assert version["clientVersion"]["gitVersion"] == cp.KUBERNETES_VERSION
    nodes = kube_cluster.get_json("nodes")["items"]
    assert len(nodes) >= 1


def test_deployment_becomes_available(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    kube_cluster.apply(deployment("web", 2), "-n", kube_namespace)
    kube_cluster.kubectl(
        "wait",
        "deployment/web",
        "--for=condition=Available",
        "-n",
        kube_namespace,
        "--timeout=90s",
    )
    apps = client.AppsV1Api(kube_cluster.api_client())
    status = wait_for(
        "2/2 available replicas",
        lambda: (
            s
            if (s := apps.read_namespaced_deployment_status("web", kube_namespace).status)
            and s.available_replicas == 2
            and s.ready_replicas == 2
            else None
        ),
    )
    assert status.replicas == 2
    pods = kube_cluster.get_json("pods", "-n", kube_namespace, "-l", "app=web")["items"]
    assert {p["status"]["phase"] for p in pods} == {"Running"}
    assert all(p["spec"].get("nodeName", "").startswith("kwok-node-") for p in pods)


def test_invalid_value_is_rejected_with_the_validation_message(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    core = client.CoreV1Api(kube_cluster.api_client())
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "bad-port"},
        "spec": {"ports": [{"port": 70000}], "selector": {"app": "x"}},
    }
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_service(kube_namespace, service)
    assert caught.value.status == 422
    body = json.loads(caught.value.body)
    assert body["reason"] == "Invalid"
    assert "spec.ports[0].port: Invalid value: 70000" in body["message"]
    assert "between 1 and 65535" in body["message"]


def test_unknown_field_is_rejected_by_strict_validation(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    manifest = deployment("typo", 1)
    manifest["spec"]["replicaz"] = 3
    with pytest.raises(CommandError) as caught:
        kube_cluster.apply(manifest, "-n", kube_namespace, "--validate=strict")
    assert 'unknown field "spec.replicaz"' in caught.value.stderr


def test_crd_schema_and_cel_rules_are_enforced(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    group = f"{kube_namespace}.harness.example.com"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "min": {"type": "integer"},
                                        "max": {"type": "integer"},
                                    },
                                    "x-kubernetes-validations": [
                                        {"rule": "self.min <= self.max", "message": "min > max"}
                                    ],
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
    kube_cluster.apply(crd)
    try:
        kube_cluster.wait_established(f"widgets.{group}")
        good = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "ok"}}
        kube_cluster.apply({**good, "spec": {"min": 1, "max": 2}}, "-n", kube_namespace)
        bad = {**good, "metadata": {"name": "bad"}, "spec": {"min": 3, "max": 2}}
        with pytest.raises(CommandError) as caught:
            kube_cluster.apply(bad, "-n", kube_namespace)
        assert "min > max" in caught.value.stderr
    finally:
        kube_cluster.kubectl("delete", f"crd/widgets.{group}", "--wait=false", check=False)


def test_job_completes(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"}}
    kube_cluster.apply({**job, "spec": job_spec()}, "-n", kube_namespace)
    kube_cluster.kubectl(
        "wait", "job/once", "--for=condition=Complete", "-n", kube_namespace, "--timeout=90s"
    )
    status = kube_cluster.get_json("job/once", "-n", kube_namespace)["status"]
    assert status["succeeded"] == 1


def test_cronjob_creates_jobs_on_schedule(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick"},
        "spec": {
            "schedule": "* * * * *",  # the controller fires at the next minute boundary
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {"spec": job_spec()},
        },
    }
    kube_cluster.apply(cronjob, "-n", kube_namespace)
    batch = client.BatchV1Api(kube_cluster.api_client())

    def scheduled_jobs() -> list[Any]:
        jobs = batch.list_namespaced_job(kube_namespace).items
        return [
            j
            for j in jobs
            if any(
                o.kind == "CronJob" and o.name == "tick" for o in j.metadata.owner_references or []
            )
        ]

    jobs = wait_for("the CronJob controller to create a Job", scheduled_jobs, timeout=90)
    assert jobs[0].metadata.name.startswith("tick-")
    wait_for(
        "the CronJob to record a successful run",
        lambda: batch.read_namespaced_cron_job("tick", kube_namespace).status.last_successful_time,
        timeout=90,
    )


def test_deleting_an_owner_garbage_collects_its_dependents(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    core = client.CoreV1Api(kube_cluster.api_client())
    owner = core.create_namespaced_config_map(
        kube_namespace, {"metadata": {"name": "owner"}, "data": {"k": "v"}}
    )
    reference = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner.metadata.uid,
    }
    for index in range(3):
        core.create_namespaced_config_map(
            kube_namespace,
            {"metadata": {"name": f"dependent-{index}", "ownerReferences": [reference]}},
        )
    core.delete_namespaced_config_map("owner", kube_namespace, propagation_policy="Background")

    def dependents_gone() -> bool:
        names = {c.metadata.name for c in core.list_namespaced_config_map(kube_namespace).items}
        return not any(n.startswith("dependent-") for n in names)

    wait_for("the garbage collector to delete the dependents", dependents_gone, timeout=60)


def test_deleting_a_deployment_removes_its_replicasets_and_pods(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    kube_cluster.apply(deployment("gone", 1), "-n", kube_namespace)
    kube_cluster.kubectl(
        "rollout", "status", "deployment/gone", "-n", kube_namespace, "--timeout=90s"
    )
    kube_cluster.kubectl(
        "delete", "deployment/gone", "-n", kube_namespace, "--cascade=foreground", "--timeout=90s"
    )

    def nothing_left() -> bool:
        rs = kube_cluster.get_json("replicasets", "-n", kube_namespace, "-l", "app=gone")
        pods = kube_cluster.get_json("pods", "-n", kube_namespace, "-l", "app=gone")
        return not rs["items"] and not pods["items"]

    wait_for("ReplicaSets and Pods to be garbage collected", nothing_left, timeout=90)


def test_serviceaccount_tokens_are_issued_and_accepted(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    token = kube_cluster.kubectl("create", "token", "default", "-n", kube_namespace).stdout.strip()
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token},
    }
    result = json.loads(
        kube_cluster.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(review)).stdout
    )
    assert result["status"]["authenticated"] is True
    assert result["status"]["user"]["username"] == (
        f"system:serviceaccount:{kube_namespace}:default"
    )


def test_helm_installs_and_uninstalls_a_chart(
    kube_cluster: KubeCluster, kube_namespace: str, tmp_path: Path
) -> None:
    version = kube_cluster.helm("version", "--short").stdout
    assert version.startswith(cp.HELM_VERSION)
    chart = tmp_path / "demo"
    kube_cluster.helm("create", str(chart))
    kube_cluster.helm(
        "install",
        "demo",
        str(chart),
        "-n",
        kube_namespace,
        "--wait",
        "--timeout",
        "120s",
        "--set",
        f"image.repository={PAUSE_REPOSITORY}",
        "--set",
        f"image.tag={PAUSE_TAG}",
    )
    releases = json.loads(kube_cluster.helm("list", "-n", kube_namespace, "-o", "json").stdout)
    assert [(r["name"], r["status"]) for r in releases] == [("demo", "deployed")]
    kube_cluster.helm("uninstall", "demo", "-n", kube_namespace, "--wait")
    assert kube_cluster.get_json("deployments", "-n", kube_namespace)["items"] == []
