"""Putting the operator's prerequisites on a control plane: CRD, RBAC, storage.

Shared by the integration tests' fixtures and by ``benchmarks/operator.py``.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s

from tests.integration.operator.support import CRD_PATH, RBAC_PATH
from tests.plugins.kube import KubeCluster

OPERATOR_NAMESPACE = "sora-system"
OPERATOR_ACCOUNT = "sora-operator"
PROVISIONED_LABEL = "sora.test/provisioned"


def install_crd(cluster: KubeCluster) -> None:
    cluster.kubectl("apply", "--server-side", "-f", str(CRD_PATH))
    cluster.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/soradeployments.sora.example.com",
    )


def operator_kubeconfig(cluster: KubeCluster, destination: Path) -> Path:
    """A kubeconfig for a ServiceAccount bound to exactly rbac.yaml's rules."""
    cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OPERATOR_NAMESPACE}}
    )
    cluster.kubectl("apply", "-n", OPERATOR_NAMESPACE, "-f", str(RBAC_PATH))
    cluster.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": OPERATOR_ACCOUNT, "namespace": OPERATOR_NAMESPACE},
            },
            _binding("ClusterRoleBinding", "sora-operator", "ClusterRole", "sora-operator"),
            _binding(
                "RoleBinding",
                "sora-operator-leader-election",
                "Role",
                "sora-operator-leader-election",
            ),
        ]
    )
    token = cluster.kubectl(
        "create", "token", OPERATOR_ACCOUNT, "-n", OPERATOR_NAMESPACE, "--duration=24h"
    ).stdout.strip()
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    for user in config["users"]:
        user["user"] = {"token": token}
    destination.write_text(yaml.safe_dump(config))
    return destination


def _binding(kind: str, name: str, role_kind: str, role: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if kind == "RoleBinding":
        metadata["namespace"] = OPERATOR_NAMESPACE
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [
            {"kind": "ServiceAccount", "name": OPERATOR_ACCOUNT, "namespace": OPERATOR_NAMESPACE}
        ],
    }


class VolumeProvisioner:
    """Binds each pending claim to a hostPath PersistentVolume, as a cloud provisioner would.

    The control plane has no storage provisioner, and a pod whose claim is unbound is
    never scheduled.
    """

    def __init__(self, api_client: Any, *, delete_volumes_after: bool = True) -> None:
        self._core = k8s.CoreV1Api(api_client)
        self._delete_volumes_after = delete_volumes_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="volume-provisioner", daemon=True)
        self._provisioned: set[str] = set()

    def __enter__(self) -> VolumeProvisioner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if not self._delete_volumes_after:
            return
        with contextlib.suppress(Exception):
            self._core.delete_collection_persistent_volume(
                label_selector=f"{PROVISIONED_LABEL}=true"
            )

    def _run(self) -> None:
        while not self._stop.wait(0.3):
            with contextlib.suppress(Exception):
                self._provision_pending()

    def _provision_pending(self) -> None:
        for claim in self._core.list_persistent_volume_claim_for_all_namespaces().items:
            if claim.metadata.uid in self._provisioned or claim.spec.volume_name:
                continue
            self._core.create_persistent_volume(body=_volume_for(claim))
            self._provisioned.add(claim.metadata.uid)


def _volume_for(claim: Any) -> dict[str, Any]:
    uid = claim.metadata.uid
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"pv-{uid}", "labels": {PROVISIONED_LABEL: "true"}},
        "spec": {
            "capacity": {"storage": claim.spec.resources.requests["storage"]},
            "accessModes": claim.spec.access_modes,
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": claim.spec.storage_class_name or "",
            "hostPath": {"path": f"/tmp/sora-test-volumes/{uid}"},
            "claimRef": {
                "namespace": claim.metadata.namespace,
                "name": claim.metadata.name,
                "uid": uid,
            },
        },
    }


def operator_environment(
    kubeconfig: Path, metrics_port: int, liveness_port: int, **overrides: str
) -> dict[str, str]:
    """Environment for a ``sora-operator`` process against the test control plane."""
    return {
        "KUBECONFIG": str(kubeconfig),
        "SORA_OPERATOR_METRICS_PORT": str(metrics_port),
        "SORA_OPERATOR_LIVENESS": f"http://127.0.0.1:{liveness_port}/healthz",
        "SORA_OPERATOR_LEASE_NAMESPACE": OPERATOR_NAMESPACE,
        "SORA_OPERATOR_IMAGE_REPOSITORY": "sora/services",
        "SORA_OPERATOR_IMAGE_TAG": "test",
        "LOG_FORMAT": "text",
        **overrides,
    }


def main() -> int:
    """``python -m tests.integration.operator.cluster_setup volumes``: bind pending claims.

    The local control plane (hack/cluster.sh) has no storage provisioner; run this
    beside it (with its KUBECONFIG) so feedback API pods get their volume.
    """
    import argparse
    import time

    from kubernetes import config

    parser = argparse.ArgumentParser(prog="python -m tests.integration.operator.cluster_setup")
    parser.add_argument("command", choices=["volumes"], help="bind pending claims until Ctrl-C")
    parser.parse_args()
    with VolumeProvisioner(config.new_client_from_config(), delete_volumes_after=False):
        print("binding pending PersistentVolumeClaims to hostPath volumes; Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
