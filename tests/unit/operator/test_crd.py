"""The CRD manifest: generated from the models, contract names, documentation."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from copy import deepcopy
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from sora_operator import spec
from sora_operator.api import v1alpha1 as api
from tests.unit.operator.factories import CRD_PATH, REPO_ROOT, crd, crd_schema

EXAMPLES = sorted((REPO_ROOT / "docs" / "examples").glob("*.yaml"))


def _properties(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for name, child in schema.get("properties", {}).items():
        child_path = f"{path}.{name}" if path else name
        yield child_path, child
        yield from _properties(child, child_path)
    if "items" in schema:
        yield from _properties(schema["items"], f"{path}[]")


def _spec_schema() -> dict[str, Any]:
    schema: dict[str, Any] = crd_schema()["properties"]["spec"]
    return schema


def _generator() -> ModuleType:
    """hack/crd-gen.py, imported (its name is not a module name)."""
    found = importlib.util.spec_from_file_location("crd_gen", REPO_ROOT / "hack" / "crd-gen.py")
    assert found is not None
    assert found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def _with_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """``value`` with the schema's defaults filled in, as the API server fills them in."""
    if isinstance(value, dict) and "properties" in schema:
        for name, child in schema["properties"].items():
            if name not in value and "default" in child:
                value[name] = deepcopy(child["default"])
            if name in value:
                value[name] = _with_defaults(value[name], child)
    elif isinstance(value, list) and "items" in schema:
        return [_with_defaults(item, schema["items"]) for item in value]
    return value


def test_the_committed_crd_is_the_one_the_models_generate() -> None:
    assert CRD_PATH.read_text() == _generator().render(), (
        f"{CRD_PATH.relative_to(REPO_ROOT)} is stale: run `make crd` (it is generated from "
        "operator/sora_operator/api/v1alpha1.py)"
    )


def test_crd_names_match_the_contract() -> None:
    names = crd()["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == (
        "SoraDeployment",
        "soradeployments",
        ["sora"],
    )
    assert crd()["spec"]["group"] == api.GROUP
    assert crd()["spec"]["scope"] == "Namespaced"


def test_crd_serves_v1alpha1_with_a_status_subresource() -> None:
    (version,) = crd()["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {"status": {}}


def test_printer_columns_show_environment_ready_replicas_last_backup_and_age() -> None:
    columns = [c["name"] for c in crd()["spec"]["versions"][0]["additionalPrinterColumns"]]
    for wanted in ("Environment", "Ready", "File server replicas", "Last backup", "Age"):
        assert wanted in columns


def test_every_spec_field_has_a_description() -> None:
    undocumented = [
        path for path, node in _properties(_spec_schema()) if not node.get("description")
    ]
    assert undocumented == []


def test_spec_has_every_contract_section() -> None:
    sections = set(_spec_schema()["properties"])
    assert {
        "environment",
        "image",
        "fileServer",
        "feedbackApi",
        "backup",
        "restore",
        "ingress",
        "monitoring",
        "admin",
    } <= sections


def test_admin_is_a_structural_schema_with_its_fields() -> None:
    admin = _spec_schema()["properties"]["admin"]
    assert "x-kubernetes-preserve-unknown-fields" not in admin
    assert {"enabled", "replicas", "resources", "sessionSecretName", "ingress"} <= set(
        admin["properties"]
    )
    assert set(admin["properties"]["ingress"]["properties"]) == {"enabled", "sourceCidrs"}


def test_admin_source_cidrs_fit_in_one_alb_rule() -> None:
    """An ALB rule holds five values: the path, the host and at most three addresses."""
    ingress = _spec_schema()["properties"]["admin"]["properties"]["ingress"]
    assert ingress["properties"]["sourceCidrs"]["maxItems"] == 3


def test_admin_source_cidrs_with_another_ingress_class_are_refused_with_a_message() -> None:
    rules = _spec_schema().get("x-kubernetes-validations", [])
    assert any(
        "admin.ingress.sourceCidrs" in rule["rule"] and "'alb'" in rule["rule"] for rule in rules
    )


@pytest.mark.parametrize("path", ["backup", "restore"])
def test_backup_sections_are_structural_schemas(path: str) -> None:
    assert "x-kubernetes-preserve-unknown-fields" not in _spec_schema()["properties"][path]


def test_file_server_autoscaling_is_a_structural_schema() -> None:
    autoscaling = _spec_schema()["properties"]["fileServer"]["properties"]["autoscaling"]
    assert "x-kubernetes-preserve-unknown-fields" not in autoscaling
    assert {"enabled", "minReplicas", "maxReplicas", "metrics", "behavior", "schedules"} <= set(
        autoscaling["properties"]
    )


def test_every_cel_rule_has_a_message() -> None:
    def rules(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield from node.get("x-kubernetes-validations", [])
        for child in node.get("properties", {}).values():
            yield from rules(child)

    found = list(rules(crd_schema()))
    assert len(found) >= 6
    assert all(rule.get("message") for rule in found)


def test_the_crd_uses_no_refs_which_the_api_server_refuses() -> None:
    assert "$ref" not in (REPO_ROOT / "crds" / "sora.example.com_soradeployments.yaml").read_text()


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_documented_example_matches_the_schema(example: Path) -> None:
    document = yaml.safe_load(example.read_text())
    jsonschema.validate(document["spec"], _spec_schema())


def test_there_is_a_minimal_and_a_full_example() -> None:
    assert {p.name for p in EXAMPLES} >= {"dev-minimal.yaml", "prod-full.yaml"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_documented_example_parses_into_a_spec(example: Path) -> None:
    document = yaml.safe_load(example.read_text())
    document["metadata"].setdefault("namespace", "default")
    parsed = spec.parse(document, spec.ImageDefaults("sora/services", "0.1.0"))
    assert parsed.environment == document["spec"]["environment"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_a_spec_the_api_server_defaulted_parses_as_the_spec_written(example: Path) -> None:
    document = yaml.safe_load(example.read_text())
    document["metadata"].setdefault("namespace", "default")
    defaulted = deepcopy(document)
    defaulted["spec"] = _with_defaults(defaulted["spec"], _spec_schema())
    assert defaulted["spec"] != document["spec"]  # the API server adds something
    image = spec.ImageDefaults("sora/services", "0.1.0")
    assert spec.parse(defaulted, image) == spec.parse(document, image)
