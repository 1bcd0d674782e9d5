"""The CRD manifest: contract names, documentation, and agreement with the operator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from sora_operator import spec
from tests.unit.operator.factories import REPO_ROOT, crd, crd_schema

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


def test_crd_names_match_the_contract() -> None:
    names = crd()["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == (
        "SoraDeployment",
        "soradeployments",
        ["sora"],
    )
    assert crd()["spec"]["group"] == spec.GROUP
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


def test_admin_defaults_equal_the_operators_fallbacks() -> None:
    admin = _spec_schema()["properties"]["admin"]["properties"]
    fallback = spec.Admin()
    assert (admin["enabled"]["default"], admin["replicas"]["default"]) == (
        fallback.enabled,
        fallback.replicas,
    )
    assert admin["ingress"]["properties"]["enabled"]["default"] is fallback.ingress.enabled
    assert fallback.enabled is False  # opt-in: the panel can delete feedback


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


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("fileServer.cacheSize", spec.DEFAULT_CACHE_SIZE),
        ("image.pullPolicy", spec.DEFAULT_PULL_POLICY),
        ("ingress.className", spec.DEFAULT_INGRESS_CLASS),
        ("fileServer.presignedRedirects.minSize", spec.DEFAULT_REDIRECT_MIN_SIZE),
        ("fileServer.presignedRedirects.ttlSeconds", spec.DEFAULT_REDIRECT_TTL_SECONDS),
        ("backup.schedule", spec.DEFAULT_BACKUP_SCHEDULE),
        ("backup.storageClass", spec.DEFAULT_BACKUP_STORAGE_CLASS),
        ("backup.keepCopies", spec.DEFAULT_BACKUP_KEEP_COPIES),
        ("backup.startingDeadlineSeconds", spec.DEFAULT_BACKUP_STARTING_DEADLINE_SECONDS),
        ("backup.activeDeadlineSeconds", spec.DEFAULT_BACKUP_ACTIVE_DEADLINE_SECONDS),
        ("feedbackApi.database.retainOnDelete", True),
        ("ingress.enabled", True),
        ("fileServer.storage.type", "local"),
    ],
)
def test_crd_defaults_equal_the_operators_fallbacks(path: str, value: object) -> None:
    node = _spec_schema()
    for part in path.split("."):
        node = node["properties"][part]
    assert node["default"] == value


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
