"""Per-service log groups with the seed's retention, as real configuration: Terraform creates
/sora/<environment>/<service> and gives the CloudWatch Observability add-on's Fluent Bit the
pipeline that writes the Sora pods there, by the component label the operator puts on them."""

from __future__ import annotations

import re
from typing import Any

from terraform_hcl import MODULES, PLATFORM, TerraformTree, expr

from sora_operator.builders import labels

EKS = MODULES / "eks"
MONITORING = MODULES / "monitoring"
TEMPLATE = MONITORING / "fluent-bit" / "application-log.conf.tftpl"
#: The components the operator labels its pods with (builders: fileserver, feedback, admin,
#: backup, restore).
OPERATOR_COMPONENTS = {"file-server", "feedback-api", "admin", "backup", "restore"}


def _variables(tree: TerraformTree, directory: Any) -> dict[str, Any]:
    return {n: b for p, n, b in tree.named("variable") if p.parent == directory}


def _rendered(namespace: str = "sora", environment: str = "prod") -> str:
    """The template as templatefile renders it for these values."""
    values = {
        "namespace": namespace,
        "environment": environment,
        "log_group_prefix": f"/sora/{environment}",
        "fallback_log_group": f"/sora/{environment}/other",
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    text = re.sub(r"(?<!\$)\$\{(\w+)\}", lambda m: values[m.group(1)], text)
    return text.replace("$${", "${")


def _output(text: str, match: str) -> dict[str, str]:
    for section in text.split("[OUTPUT]")[1:]:
        settings = dict(
            line.split(None, 1)
            for line in section.splitlines()
            if line.strip() and not line.startswith("#") and not line.startswith("[")
        )
        if settings.get("Match") == match:
            return settings
    raise AssertionError(f"no output for {match}")


def test_every_service_of_the_operator_has_a_log_group(tree: TerraformTree) -> None:
    assert _variables(tree, MONITORING)["log_services"]["default"] == sorted(
        OPERATOR_COMPONENTS, key=["file-server", "feedback-api", "admin", "backup", "restore"].index
    )
    locals_ = tree.locals_of(MONITORING)
    assert locals_["service_log_group_prefix"] == "/sora/${var.environment}"
    group = tree.resource(MONITORING, "aws_cloudwatch_log_group", "service")
    assert expr(group["for_each"]) == "local.service_log_groups"
    assert expr(group["retention_in_days"]) == "var.log_retention_days"
    assert expr(group["kms_key_id"]) == "aws_kms_key.this.arn"


def test_the_retention_is_the_seeds_per_environment(tree: TerraformTree) -> None:
    settings = tree.locals_of(PLATFORM)["settings"]
    assert expr(settings["log_retention_days"]) == "local.is_prod ? 30 : 7"
    call = tree.module_calls(PLATFORM)["monitoring"]
    assert expr(call["log_retention_days"]) == "local.settings.log_retention_days"
    assert expr(call["environment"]) == "var.environment"


def test_fluent_bit_writes_the_sora_pods_to_their_services_group() -> None:
    output = _output(_rendered(), "sora.*")
    component = labels.COMPONENT
    assert output["log_group_template"] == f"/sora/prod/$kubernetes['labels']['{component}']"
    assert output["log_group_name"] == "/sora/prod/other"
    # Groups come from Terraform only, with their retention.
    assert output["auto_create_group"] == "false"
    text = _rendered()
    assert "Path                /var/log/containers/*_sora_*.log" in text
    assert "Labels              On" in text.split("Match               sora.*")[1]


def test_other_containers_keep_the_container_insights_group() -> None:
    text = _rendered()
    output = _output(text, "application.*")
    assert output["log_group_name"] == "/aws/containerinsights/${CLUSTER_NAME}/application"
    assert (
        "/var/log/containers/*_sora_*.log"
        in text.split("Tag                 application.*")[1].split("\n")[1]
    )


def test_the_add_on_runs_with_that_pipeline(tree: TerraformTree) -> None:
    configuration = expr(tree.locals_of(EKS)["addon_configuration"])
    assert '"application-log.conf" = var.fluent_bit_application_config' in configuration
    addon = tree.resource(EKS, "aws_eks_addon", "after_nodes")
    assert (
        expr(addon["configuration_values"]) == "lookup(local.addon_configuration, each.key, null)"
    )
    call = tree.module_calls(PLATFORM)["eks"]
    assert expr(call["fluent_bit_application_config"]) == (
        "module.monitoring.fluent_bit_application_config"
    )
