"""Shared fixtures of the operator's unit tests: an in-memory cluster and a reconciler over it."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from copy import deepcopy
from typing import Any

import pytest

from sora_operator.kube import ApiError
from sora_operator.objects import ObjectRef, ref_of
from sora_operator.reconcile import Reconciler
from tests.unit.operator.factories import IMAGE


class FakeCluster:
    """Stores what is applied; counts writes; can refuse chosen objects."""

    def __init__(self) -> None:
        self.objects: dict[ObjectRef, dict[str, Any]] = {}
        self.writes: list[tuple[str, ObjectRef]] = []
        self.refuse: dict[ObjectRef, ApiError] = {}
        #: What monitoring.coreos.com/v1 serves (the Prometheus Operator's CRDs).
        self.monitoring_kinds = frozenset({"ServiceMonitor", "PrometheusRule"})

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        found = self.objects.get(ref)
        return deepcopy(found) if found is not None else None

    def apply(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        ref = ref_of(manifest)
        self._check(ref)
        self.writes.append(("apply", ref))
        stored = deepcopy(dict(manifest))
        stored["metadata"]["resourceVersion"] = str(len(self.writes))
        self.objects[ref] = stored
        return deepcopy(stored)

    def create(self, manifest: Mapping[str, Any]) -> dict[str, Any] | None:
        ref = ref_of(manifest)
        if ref in self.objects:
            return None
        self.writes.append(("create", ref))
        stored = deepcopy(dict(manifest))
        data = stored.pop("stringData", {})
        stored["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        self.objects[ref] = stored
        return deepcopy(stored)

    def delete(self, ref: ObjectRef) -> None:
        self.writes.append(("delete", ref))
        self.objects.pop(ref, None)

    def list_objects(
        self, kind: str, namespace: str | None, selector: str = "", fields: str = ""
    ) -> list[dict[str, Any]]:
        """Stored objects of ``kind`` (in ``namespace``) carrying every ``k=v`` of ``selector``."""
        wanted = dict(term.split("=", 1) for term in selector.split(",") if term)
        return [
            deepcopy(found)
            for ref, found in self.objects.items()
            if ref.kind == kind
            and namespace in (None, ref.namespace)
            and wanted.items() <= (found.get("metadata", {}).get("labels") or {}).items()
        ]

    def served_kinds(self, api_version: str) -> frozenset[str]:
        assert api_version == "monitoring.coreos.com/v1"
        return self.monitoring_kinds

    def _check(self, ref: ObjectRef) -> None:
        if ref in self.refuse:
            raise self.refuse[ref]


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def reconciler(cluster: FakeCluster) -> Reconciler:
    values = {"ENCRYPTION_KEY": "e" * 43, "IP_SALT": "s" * 43, "ADMIN_TOKEN": "a" * 43}
    return Reconciler(
        cluster,
        IMAGE,
        clock=lambda: "2026-01-01T00:00:00Z",
        generate_secret_values=lambda: values,
        generate_admin_secret_values=lambda: {"SESSION_SECRET": "k" * 43},
    )
