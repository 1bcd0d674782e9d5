"""Builders of SoraDeployment bodies and parsed specs for the unit tests."""

from __future__ import annotations

from copy import deepcopy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from sora_operator.api.v1alpha1 import API_VERSION, KIND
from sora_operator.spec import ImageDefaults, SoraDeployment, parse

REPO_ROOT = Path(__file__).resolve().parents[3]
CRD_PATH = REPO_ROOT / "crds" / "sora.example.com_soradeployments.yaml"
IMAGE = ImageDefaults("registry.example/sora/services", "1.2.3")


def body(
    spec: dict[str, Any] | None = None,
    *,
    name: str = "shop",
    namespace: str = "sora-prod",
    uid: str = "7d6f1c1e-0000-4000-8000-000000000001",
    generation: int = 1,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace, "uid": uid, "generation": generation},
        "spec": deepcopy(spec) if spec is not None else {"environment": "dev"},
        "status": deepcopy(status) if status is not None else {},
    }


def make_sora_deployment(environment: str = "dev", **sections: Any) -> SoraDeployment:
    return parse(body({"environment": environment, **sections}), IMAGE)


@cache
def crd() -> dict[str, Any]:
    """The parsed CRD manifest (parsed once; read it, do not change it)."""
    loaded: dict[str, Any] = yaml.safe_load(CRD_PATH.read_text())
    return loaded


def crd_schema() -> dict[str, Any]:
    schema: dict[str, Any] = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = pod_spec(deployment)["containers"][0]
    return first


def env_value(deployment: dict[str, Any], name: str) -> Any:
    for entry in container(deployment)["env"]:
        if entry["name"] == name:
            return entry.get("value", entry.get("valueFrom"))
    raise KeyError(name)
