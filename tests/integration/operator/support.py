"""Helpers for the operator's integration tests: polling, reading objects, metrics."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.support.polling import wait_for
from tests.support.processes import Service

REPO_ROOT = Path(__file__).resolve().parents[3]
CRD_PATH = REPO_ROOT / "crds" / "sora.example.com_soradeployments.yaml"
RBAC_PATH = REPO_ROOT / "operator" / "sora_operator" / "rbac.yaml"
EXAMPLES = REPO_ROOT / "docs" / "examples"


def sora_deployment(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "sora.example.com/v1alpha1",
        "kind": "SoraDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    return document


def condition(body: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for entry in ((body or {}).get("status") or {}).get("conditions") or []:
        if entry.get("type") == kind:
            return dict(entry)
    return {}


def is_ready(body: dict[str, Any] | None) -> bool:
    """Ready for the spec as it is now, not for an older generation.

    Right after a spec change the stored status is still the previous generation's
    (Ready=True with the old replica counts) until the operator has reconciled the
    new one: only a status whose ``observedGeneration`` (its own and the Ready
    condition's) equals ``metadata.generation`` speaks for the current spec.
    """
    if not body:
        return False
    generation = body.get("metadata", {}).get("generation")
    ready = condition(body, "Ready")
    return (
        ready.get("status") == "True"
        and ready.get("observedGeneration") == generation
        and (body.get("status") or {}).get("observedGeneration") == generation
    )


def child_refs(namespace: str, name: str) -> list[ObjectRef]:
    """Every child a default dev SoraDeployment has (no PDB with one file server)."""
    return [
        ObjectRef("ServiceAccount", namespace, f"{name}-file-server"),
        ObjectRef("ServiceAccount", namespace, f"{name}-feedback-api"),
        ObjectRef("ConfigMap", namespace, f"{name}-file-server"),
        ObjectRef("ConfigMap", namespace, f"{name}-feedback-api"),
        ObjectRef("PersistentVolumeClaim", namespace, f"{name}-feedback-db"),
        ObjectRef("Service", namespace, f"{name}-file-server"),
        ObjectRef("Service", namespace, f"{name}-feedback-api"),
        ObjectRef("Deployment", namespace, f"{name}-file-server"),
        ObjectRef("Deployment", namespace, f"{name}-feedback-api"),
        ObjectRef("NetworkPolicy", namespace, f"{name}-file-server"),
        ObjectRef("NetworkPolicy", namespace, f"{name}-feedback-api"),
        ObjectRef("Ingress", namespace, name),
        ObjectRef("Secret", namespace, f"{name}-secrets"),
    ]


def resource_versions(client: KubeClient, refs: list[ObjectRef]) -> dict[ObjectRef, str | None]:
    def version(ref: ObjectRef) -> str | None:
        found = client.get(ref)
        return found["metadata"]["resourceVersion"] if found else None

    return {ref: version(ref) for ref in refs}


@dataclass
class MetricsReader:
    url: str

    def text(self) -> str:
        return requests.get(self.url, timeout=5).text

    def total(self, name: str, **labels: str) -> float:
        """Sum of every sample of ``name`` whose labels include ``labels``."""
        total = 0.0
        for line in self.text().splitlines():
            match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
            if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
                total += float(match.group(2))
        return total


def metrics_of(service: Service) -> MetricsReader:
    return MetricsReader(f"{service.url}/metrics")


def wait_two_resyncs(operator: Service) -> None:
    """Long enough for a repeated Event or a needless write to have happened."""
    metrics = metrics_of(operator)
    resyncs = metrics.total("sora_operator_reconciles_total", trigger="resync")
    wait_for(
        lambda: metrics.total("sora_operator_reconciles_total", trigger="resync") >= resyncs + 2,
        30,
        "two more resyncs",
    )


def wait_ready(
    client: KubeClient, namespace: str, name: str, timeout: float = 90
) -> dict[str, Any]:
    ref = ObjectRef("SoraDeployment", namespace, name)

    def ready() -> dict[str, Any] | None:
        body = client.get(ref)
        return body if is_ready(body) else None

    try:
        return wait_for(
            ready, timeout, f"SoraDeployment {namespace}/{name} to become Ready for its generation"
        )
    except AssertionError as error:
        raise AssertionError(f"{error}\n{_diagnosis(client, ref)}") from None


def _diagnosis(client: KubeClient, ref: ObjectRef) -> str:
    """What a timed-out wait saw: the conditions, and whether kwok's nodes flapped
    (a node that went NotReady under CPU starvation leaves its pods NotReady)."""
    body = client.get(ref) or {}
    conditions = [
        f"{c.get('type')}={c.get('status')} {c.get('reason')}: {c.get('message')}"
        for c in (body.get("status") or {}).get("conditions", [])
    ]
    from kubernetes import client as k8s

    not_ready = [
        node.metadata.name
        for node in k8s.CoreV1Api(client.api_client).list_node().items
        if any(c.type == "Ready" and c.status != "True" for c in node.status.conditions or [])
    ]
    return f"conditions: {conditions}; nodes not Ready: {not_ready or 'none'}"


class StatusChanges:
    """Counts the changes of one SoraDeployment's status, as a watch delivers them.

    A status write that changes nothing does not produce an event; so if the operator
    sends more status writes than this counts, some of them were useless.
    """

    def __init__(self, api_client: Any, namespace: str, name: str) -> None:
        from kubernetes import client, watch

        self._api = client.CustomObjectsApi(api_client)
        self._watch = watch.Watch()
        self._namespace, self._name = namespace, name
        self.count = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        previous: Any = None
        stream = self._watch.stream(
            self._api.list_namespaced_custom_object,
            "sora.example.com",
            "v1alpha1",
            self._namespace,
            "soradeployments",
            field_selector=f"metadata.name={self._name}",
            timeout_seconds=600,
        )
        try:
            for event in stream:
                status = event["object"].get("status")
                if previous is not None and status != previous:
                    self.count += 1
                previous = status
        except Exception:  # the stream ends when stopped or when the namespace goes
            if not self._stopped:
                raise

    def __enter__(self) -> StatusChanges:
        self._thread.start()
        time.sleep(0.5)  # the watch's initial ADDED event sets the baseline
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped = True
        self._watch.stop()
