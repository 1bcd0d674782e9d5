"""Volumes for the local control plane: StorageClasses and a provisioner that binds claims.

The control plane (tests/support/controlplane/) has no storage driver, and a pod whose claim is
unbound is never scheduled. :class:`VolumeProvisioner` plays a cloud's dynamic
provisioner: it installs the StorageClasses in :data:`STORAGE_CLASSES` (``standard``
the default, as on kind; ``gp3``, the class the EKS examples name) and binds every
pending claim of one of them, or of no class, to a hostPath PersistentVolume. A
claim naming any other class stays Pending, as on a real cluster, with the PV
controller's event saying why (``storageclass.storage.k8s.io "x" not found``).

The integration tests run it in their session (a fixture) and ``hack/cluster.sh up``
runs it beside the control plane it starts, so both clusters bind claims the same way.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Final

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

PROVISIONER: Final = "sora.local/hostpath"
PROVISIONED_LABEL: Final = "sora.test/provisioned"
DEFAULT_CLASS: Final = "standard"
STORAGE_CLASSES: Final = (DEFAULT_CLASS, "gp3")
VOLUME_ROOT: Final = "/tmp/sora-test-volumes"
POLL_SECONDS: Final = 0.3


def storage_class_manifest(name: str) -> dict[str, Any]:
    default = "true" if name == DEFAULT_CLASS else "false"
    annotations = {"storageclass.kubernetes.io/is-default-class": default}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": annotations},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
    }


def serves(claim: Any, served_classes: set[str]) -> bool:
    """A claim this provisioner binds: of no class, or of a class it serves."""
    return (claim.spec.storage_class_name or "") in {"", *served_classes}


def volume_for(claim: Any) -> dict[str, Any]:
    """A hostPath PersistentVolume reserved for ``claim`` (named after its uid: idempotent)."""
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
            "hostPath": {"path": f"{VOLUME_ROOT}/{uid}"},
            "claimRef": {
                "namespace": claim.metadata.namespace,
                "name": claim.metadata.name,
                "uid": uid,
            },
        },
    }


class VolumeProvisioner:
    """Binds each pending claim it serves to a hostPath PersistentVolume (a thread)."""

    def __init__(self, api_client: Any, *, delete_volumes_after: bool = True) -> None:
        self._core = k8s.CoreV1Api(api_client)
        self._storage = k8s.StorageV1Api(api_client)
        self._delete_volumes_after = delete_volumes_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="volume-provisioner", daemon=True)
        self._provisioned: set[str] = set()

    def __enter__(self) -> VolumeProvisioner:
        self.install_storage_classes()
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

    def install_storage_classes(self) -> None:
        for name in STORAGE_CLASSES:
            try:
                self._storage.create_storage_class(body=storage_class_manifest(name))
            except ApiException as error:
                if error.status != 409:  # already there (another run, or `up`)
                    raise

    def _served_classes(self) -> set[str]:
        return {
            item.metadata.name
            for item in self._storage.list_storage_class().items
            if item.provisioner == PROVISIONER
        }

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            with contextlib.suppress(Exception):
                self._provision_pending()

    def _provision_pending(self) -> None:
        claims = self._core.list_persistent_volume_claim_for_all_namespaces().items
        pending = [
            claim
            for claim in claims
            if not claim.spec.volume_name and claim.metadata.uid not in self._provisioned
        ]
        if not pending:
            return
        served = self._served_classes()
        for claim in pending:
            if serves(claim, served):
                self._create_volume(claim)

    def _create_volume(self, claim: Any) -> None:
        try:
            self._core.create_persistent_volume(body=volume_for(claim))
        except ApiException as error:
            if error.status != 409:  # another provisioner (tests beside `up`) made it
                raise
        self._provisioned.add(claim.metadata.uid)
