"""The status says why a component is not ready, in the words of what blocks it.

The control plane produces the first two states itself: a claim of a StorageClass
nobody provisions stays Pending (the PV controller says why), and a pod asking for
more CPU than any node has is unschedulable (the scheduler says why). An image that
cannot be pulled is a kubelet-only state (kwok runs no kubelet): that test patches
the pod's status and records the Event exactly as a real kubelet reports them.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.conftest import StartOperator
from tests.integration.operator.support import (
    condition,
    sora_deployment,
    wait_ready,
    wait_two_resyncs,
)
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for

NAME = "shop"


def _apply(kube_cluster: KubeCluster, namespace: str, **spec: Any) -> None:
    kube_cluster.apply(sora_deployment(NAME, namespace, {"environment": "dev", **spec}))


def _wait_for_cause(admin: KubeClient, namespace: str, component: str) -> dict[str, Any]:
    ref = ObjectRef("SoraDeployment", namespace, NAME)

    def stated() -> dict[str, Any] | None:
        body = admin.get(ref) or {}
        return body if ((body.get("status") or {}).get(component) or {}).get("notReady") else None

    return wait_for(stated, 90, f"the status to say why {component} is not ready")


def _warnings(admin: KubeClient, namespace: str, reason: str) -> list[Any]:
    events = k8s.CoreV1Api(admin.api_client).list_namespaced_event(
        namespace, field_selector=f"involvedObject.kind=SoraDeployment,reason={reason}"
    )
    return [event for event in events.items if event.type == "Warning"]


def test_a_claim_nobody_provisions_is_named_with_its_storage_class(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    operator = start_operator(kube_namespace)
    _apply(kube_cluster, kube_namespace, feedbackApi={"database": {"storageClassName": "fast"}})
    body = _wait_for_cause(admin, kube_namespace, "feedbackApi")
    cause = body["status"]["feedbackApi"]["notReady"]
    assert cause["reason"] == "ClaimPending"
    assert "database claim shop-feedback-db is Pending (StorageClass fast)" in cause["message"]
    assert 'storageclass.storage.k8s.io "fast" not found' in cause["message"]
    ready = condition(body, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ClaimPending")
    assert cause["message"] in ready["message"]

    # Two resyncs later the cause still stands, announced by one Event only.
    wait_two_resyncs(operator)
    assert len(_warnings(admin, kube_namespace, "ClaimPending")) == 1


def test_a_pod_no_node_fits_gives_the_schedulers_message(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    start_operator(kube_namespace)
    huge = {"requests": {"cpu": "100"}, "limits": {"cpu": "100"}}
    _apply(kube_cluster, kube_namespace, fileServer={"resources": huge})
    body = _wait_for_cause(admin, kube_namespace, "fileServer")
    cause = body["status"]["fileServer"]["notReady"]
    assert cause["reason"] == "Unschedulable"
    assert "cannot be scheduled: 0/2 nodes are available" in cause["message"]
    assert "Insufficient cpu" in cause["message"]
    wait_for(lambda: _warnings(admin, kube_namespace, "Unschedulable"), 30, "the Warning Event")


def test_an_image_that_cannot_be_pulled_is_named_with_the_pull_error(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    """kubelet-only state: the pod's status and Event are written as a kubelet writes them."""
    start_operator(kube_namespace)
    _apply(kube_cluster, kube_namespace)
    wait_ready(admin, kube_namespace, NAME)
    core = k8s.CoreV1Api(admin.api_client)
    pod = core.list_namespaced_pod(
        kube_namespace, label_selector="app.kubernetes.io/name=sora-feedback-api"
    ).items[0]
    image = pod.spec.containers[0].image
    pulled = f'Failed to pull image "{image}": rpc error: code = NotFound desc = manifest unknown'
    core.create_namespaced_event(kube_namespace, _kubelet_event(pod, "Failed", pulled))
    core.patch_namespaced_pod_status(pod.metadata.name, kube_namespace, _image_pull_back_off(pod))
    body = _wait_for_cause(admin, kube_namespace, "feedbackApi")
    cause = body["status"]["feedbackApi"]["notReady"]
    assert cause["reason"] == "ImagePullFailed"
    assert f"cannot pull image {image}: {pulled}" in cause["message"]


def _image_pull_back_off(pod: Any) -> dict[str, Any]:
    name = pod.spec.containers[0].name
    waiting = {
        "reason": "ImagePullBackOff",
        "message": f'Back-off pulling image "{pod.spec.containers[0].image}"',
    }
    return {
        "status": {
            "conditions": [
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
                {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady"},
            ],
            "containerStatuses": [
                {
                    "name": name,
                    "image": pod.spec.containers[0].image,
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {"waiting": waiting},
                }
            ],
        }
    }


def _kubelet_event(pod: Any, reason: str, message: str) -> dict[str, Any]:
    return {
        "metadata": {"generateName": f"{pod.metadata.name}."},
        "involvedObject": {
            "kind": "Pod",
            "namespace": pod.metadata.namespace,
            "name": pod.metadata.name,
            "uid": pod.metadata.uid,
            "apiVersion": "v1",
            "fieldPath": f"spec.containers{{{pod.spec.containers[0].name}}}",
        },
        "reason": reason,
        "message": message,
        "type": "Warning",
        "source": {"component": "kubelet", "host": pod.spec.node_name},
        "count": 1,
    }
