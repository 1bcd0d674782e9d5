"""The sora chart renders one SoraDeployment that carries the values' spec faithfully."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from tests.integration.charts.support import (
    CRD_PATH,
    PLATFORM_CHART,
    Helm,
    documents,
    example_files,
    of_kind,
    one,
    values_args,
)

SPEC_SECTIONS = (
    "environment",
    "image",
    "fileServer",
    "feedbackApi",
    "ingress",
    "backup",
    "restore",
    "monitoring",
    "admin",
)


def crd_spec_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD_PATH.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def field_paths(node: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Every property path of a schema (CRD or values), e.g. fileServer.storage.s3.bucket."""
    for name, child in (node.get("properties") or {}).items():
        path = f"{prefix}{name}"
        yield path
        yield from field_paths(child, f"{path}.")


def crd_defaults(node: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, child in (node.get("properties") or {}).items():
        path = f"{prefix}{name}"
        if "default" in child and child["default"] != {}:
            yield path, child["default"]
        yield from crd_defaults(child, f"{path}.")


def lookup(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        node = node[part]
    return node


def render(helm: Helm, *args: str, namespace: str = "sora") -> list[dict[str, Any]]:
    return documents(helm.template(PLATFORM_CHART, *args, namespace=namespace))


def spec_of(helm: Helm, *args: str) -> dict[str, Any]:
    spec: dict[str, Any] = one(render(helm, *args), "SoraDeployment")["spec"]
    return spec


def test_values_schema_covers_every_field_of_the_crd_spec() -> None:
    values_schema = json.loads((PLATFORM_CHART / "values.schema.json").read_text())
    crd_paths = set(field_paths(crd_spec_schema()["properties"]["spec"]))
    values_paths = {
        path for path in field_paths(values_schema) if path.split(".")[0] in SPEC_SECTIONS
    }
    assert crd_paths == values_paths


def test_values_yaml_lists_every_spec_field() -> None:
    values = yaml.safe_load((PLATFORM_CHART / "values.yaml").read_text())
    crd_paths = set(field_paths(crd_spec_schema()["properties"]["spec"]))
    # Free-form maps and int-or-string leaves are listed as their parent.
    missing = []
    for path in sorted(crd_paths):
        try:
            lookup(values, path)
        except (KeyError, TypeError):
            parent = path.rsplit(".", 1)[0]
            if path.startswith(
                ("fileServer.resources", "feedbackApi.resources", "admin.resources")
            ):
                continue
            if parent in {"feedbackApi.autoscaling"}:
                continue
            missing.append(path)
    assert not missing, f"values.yaml does not list: {missing}"


def test_values_defaults_equal_the_crd_defaults() -> None:
    values = yaml.safe_load((PLATFORM_CHART / "values.yaml").read_text())
    spec = crd_spec_schema()["properties"]["spec"]
    for path, default in crd_defaults(spec):
        assert lookup(values, path) == default, path


def test_default_values_render_only_what_is_set(helm: Helm) -> None:
    spec = spec_of(helm)
    assert spec["environment"] == "dev"
    assert "replicas" not in spec["fileServer"]
    assert "resources" not in spec["fileServer"]
    assert "s3" not in spec["fileServer"]["storage"]
    assert "size" not in spec["feedbackApi"]["database"]
    assert "image" not in spec or "tag" not in spec["image"]
    assert spec["ingress"]["enabled"] is True
    assert spec["fileServer"]["presignedRedirects"]["enabled"] is False


def test_every_section_is_passed_through(helm: Helm) -> None:
    example = PLATFORM_CHART / "examples" / "prod-full.yaml"
    values = yaml.safe_load(example.read_text())
    spec = spec_of(helm, *values_args(example))
    for section in SPEC_SECTIONS:
        if section in values:
            # every value the user gave arrives unchanged
            assert _contains(spec[section], values[section]), section


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            _contains(actual.get(k), v) for k, v in expected.items()
        )
    return bool(actual == expected)


def test_admin_panel_is_off_by_default(helm: Helm) -> None:
    assert spec_of(helm)["admin"] == {"enabled": False, "replicas": 1, "ingress": {"enabled": True}}


def test_admin_values_become_spec_admin(helm: Helm) -> None:
    spec = spec_of(
        helm,
        "--set",
        "admin.enabled=true",
        "--set",
        "admin.replicas=2",
        "--set",
        "admin.sessionSecretName=panel-session",
        "--set",
        "admin.resources.limits.memory=256Mi",
        "--set",
        "admin.ingress.sourceCidrs={203.0.113.0/24,198.51.100.7/32}",
    )
    assert spec["admin"] == {
        "enabled": True,
        "replicas": 2,
        "sessionSecretName": "panel-session",
        "resources": {"limits": {"memory": "256Mi"}},
        "ingress": {"enabled": True, "sourceCidrs": ["203.0.113.0/24", "198.51.100.7/32"]},
    }


def test_admin_can_be_kept_off_the_load_balancer(helm: Helm) -> None:
    spec = spec_of(helm, "--set", "admin.enabled=true", "--set", "admin.ingress.enabled=false")
    assert spec["admin"]["ingress"] == {"enabled": False}


def test_the_chart_generates_no_admin_secret(helm: Helm) -> None:
    """SESSION_SECRET is the operator's to generate: the chart's one Secret is the platform's."""
    secrets = of_kind(render(helm, "--set", "admin.enabled=true"), "Secret")
    assert [s["metadata"]["name"] for s in secrets] == ["sora-secrets"]


def test_autoscaling_backup_and_restore_pass_through(helm: Helm) -> None:
    spec = spec_of(
        helm,
        "--set",
        "fileServer.autoscaling.enabled=true",
        "--set",
        "fileServer.autoscaling.maxReplicas=6",
        "--set",
        "backup.enabled=true",
        "--set",
        "backup.bucket=sora-backups",
        "--set",
        "restore.requestId=r1",
    )
    assert spec["fileServer"]["autoscaling"] == {"enabled": True, "maxReplicas": 6}
    assert spec["backup"]["bucket"] == "sora-backups"
    assert spec["backup"]["enabled"] is True
    assert spec["restore"] == {"from": "latest", "requestId": "r1"}


@pytest.mark.parametrize("values", example_files(PLATFORM_CHART), ids=lambda p: p.stem)
def test_rendered_soradeployment_matches_the_crd_schema(helm: Helm, values: Path) -> None:
    """Offline check against the CRD's openAPIV3Schema (the API server adds its CEL rules)."""
    resource = one(render(helm, *values_args(values)), "SoraDeployment")
    jsonschema.validate(resource, crd_spec_schema())


def test_generated_secret_is_named_in_the_spec_and_kept(helm: Helm) -> None:
    docs = render(helm)
    secret = one(docs, "Secret")
    assert secret["metadata"]["name"] == "sora-secrets"
    assert set(secret["data"]) == {"ENCRYPTION_KEY", "IP_SALT", "ADMIN_TOKEN"}
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert one(docs, "SoraDeployment")["spec"]["feedbackApi"]["secretName"] == "sora-secrets"


def test_existing_secret_is_used_and_none_generated(helm: Helm) -> None:
    docs = render(helm, "--set", "feedbackApi.secretName=mine")
    assert not of_kind(docs, "Secret")
    assert one(docs, "SoraDeployment")["spec"]["feedbackApi"]["secretName"] == "mine"


EXTERNAL_KEYS = {
    "feedbackApi.existingSecret": "sora-keys",
    "externalSecret.enabled": "true",
    "externalSecret.secretStoreRef.name": "aws-secrets-manager",
    "externalSecret.remoteKey": "sora-prod/platform-keys",
}


def _set(values: dict[str, str]) -> list[str]:
    return [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]


def test_an_external_secret_makes_the_existing_secret_from_the_store(helm: Helm) -> None:
    docs = render(helm, *_set(EXTERNAL_KEYS))
    assert not of_kind(docs, "Secret")  # the keys come from the store, never from here
    external = one(docs, "ExternalSecret")
    assert external["apiVersion"] == "external-secrets.io/v1"
    assert external["spec"]["target"]["name"] == "sora-keys"
    assert external["spec"]["secretStoreRef"] == {
        "kind": "ClusterSecretStore",
        "name": "aws-secrets-manager",
    }
    assert external["spec"]["dataFrom"] == [{"extract": {"key": "sora-prod/platform-keys"}}]
    assert external["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    spec = one(docs, "SoraDeployment")["spec"]["feedbackApi"]
    assert spec["existingSecret"] == "sora-keys"


@pytest.mark.parametrize(
    "missing", [key for key in EXTERNAL_KEYS if key != "externalSecret.enabled"]
)
def test_an_external_secret_without_what_it_needs_is_refused(helm: Helm, missing: str) -> None:
    values = {key: value for key, value in EXTERNAL_KEYS.items() if key != missing}
    refused = helm.run("template", "sora", str(PLATFORM_CHART), *_set(values), check=False)
    assert refused.returncode != 0
    assert missing in refused.stderr
    assert "ExternalSecret" not in refused.stdout


def test_operator_generates_the_secret_when_the_chart_does_not(helm: Helm) -> None:
    docs = render(helm, "--set", "secret.create=false")
    assert not of_kind(docs, "Secret")
    assert "secretName" not in one(docs, "SoraDeployment")["spec"].get("feedbackApi", {})


def test_soradeployment_is_named_after_the_release(helm: Helm) -> None:
    resource = one(documents(helm.template(PLATFORM_CHART, release="shop")), "SoraDeployment")
    assert resource["metadata"]["name"] == "shop-sora"
    labels = resource["metadata"]["labels"]
    assert labels["app.kubernetes.io/instance"] == "shop-sora"
    assert labels["app.kubernetes.io/managed-by"] == "Helm"


def test_too_long_name_fails_with_a_clear_message(helm: Helm) -> None:
    release = "a" * 47  # the SoraDeployment would be <release>-sora: 52 characters
    result = helm.run("template", release, str(PLATFORM_CHART), check=False)
    assert result.returncode != 0
    assert f'the SoraDeployment name "{release}-sora"' in result.stderr
    assert "at most 50 characters" in result.stderr


def test_monitoring_values_become_spec_monitoring(helm: Helm) -> None:
    docs = render(
        helm,
        "--set",
        "monitoring.serviceMonitors.enabled=true",
        "--set",
        "monitoring.labels.release=prom",
    )
    assert not of_kind(docs, "ServiceMonitor"), "the operator makes them, not the chart"
    assert one(docs, "SoraDeployment")["spec"]["monitoring"] == {
        "labels": {"release": "prom"},
        "scrapeNamespace": "monitoring",
        "serviceMonitors": {"enabled": True, "interval": "30s", "scrapeTimeout": "10s"},
        "prometheusRule": {"enabled": False},
        "dashboard": {"enabled": False},
    }


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["environment=qa"], "at '/environment': value must be one of 'dev', 'staging', 'prod'"),
        (["fileServer.replicas=many"], "at '/fileServer/replicas'"),
        (["fileServer.storage.kind=s3"], "additional properties 'kind' not allowed"),
        (["fileServer.storage.type=s3"], "at '/fileServer/storage/s3/bucket'"),
        (["ingress.certificateArn=not-an-arn"], "at '/ingress/certificateArn'"),
        (["feedbackApi.database.size=lots"], "at '/feedbackApi/database/size'"),
        (["image.pullPolicy=Sometimes"], "at '/image/pullPolicy'"),
        (["admin.replicas=11"], "at '/admin/replicas'"),
        (["admin.ingress.sourceCidrs={a,b,c,d}"], "at '/admin/ingress/sourceCidrs'"),
        (["admin.sessionSecret=x"], "additional properties 'sessionSecret' not allowed"),
    ],
)
def test_wrong_value_fails_with_a_schema_message(
    helm: Helm, settings: list[str], message: str
) -> None:
    args = [arg for setting in settings for arg in ("--set", setting)]
    result = helm.run("template", "x", str(PLATFORM_CHART), *args, check=False)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr, result.stderr
