"""The optional PostgreSQL (terraform/modules/postgres) and its wiring: private, reachable from
the cluster only, encrypted, TLS required, the password kept by RDS in Secrets Manager,
backups with point-in-time recovery, protected in prod, alarmed, off unless asked for, and the
Secret's name passed through sora-release into a SoraDeployment on PostgreSQL."""

from __future__ import annotations

from typing import Any

from terraform_hcl import MODULES, PLATFORM, TerraformTree, expr

from sora_operator.spec import ImageDefaults, parse

POSTGRES = MODULES / "postgres"
RELEASE = MODULES / "sora-release"


def instance(tree: TerraformTree) -> dict[str, Any]:
    return tree.resource(POSTGRES, "aws_db_instance", "this")


def defaults(tree: TerraformTree, directory: Any) -> dict[str, Any]:
    return {
        name: body.get("default")
        for path, name, body in tree.named("variable")
        if path.parent == directory
    }


def test_the_instance_is_private_encrypted_and_multi_az_by_default(tree: TerraformTree) -> None:
    db = instance(tree)
    assert db["publicly_accessible"] is False
    assert db["storage_encrypted"] is True
    assert expr(db["kms_key_id"]) == "aws_kms_key.this.arn"
    assert expr(db["multi_az"]) == "var.multi_az"
    assert defaults(tree, POSTGRES)["multi_az"] is True
    assert expr(db["db_subnet_group_name"]) == "aws_db_subnet_group.this.name"


def test_only_the_given_security_groups_reach_the_port(tree: TerraformTree) -> None:
    rule = tree.resource(POSTGRES, "aws_vpc_security_group_ingress_rule", "clients")
    assert expr(rule["referenced_security_group_id"]) == "each.value"
    assert "cidr_ipv4" not in rule
    assert expr(rule["from_port"]) == expr(rule["to_port"]) == "var.port"
    call = tree.module_calls(PLATFORM)["postgres"]
    assert call["client_security_group_ids"] == ["${module.eks.cluster_security_group_id}"]
    assert expr(call["subnet_ids"]) == "module.network.private_subnet_ids"


def test_tls_is_required_by_the_parameter_group(tree: TerraformTree) -> None:
    group = tree.resource(POSTGRES, "aws_db_parameter_group", "this")
    parameters = group["parameter"]
    parameters = parameters if isinstance(parameters, list) else [parameters]
    assert {"name": "rds.force_ssl", "value": "1"} in parameters


def test_rds_keeps_the_password_in_secrets_manager_under_the_modules_key(
    tree: TerraformTree,
) -> None:
    db = instance(tree)
    assert db["manage_master_user_password"] is True
    assert expr(db["master_user_secret_kms_key_id"]) == "aws_kms_key.this.arn"
    assert "password" not in db


def test_backups_keep_point_in_time_recovery_and_prod_is_protected(tree: TerraformTree) -> None:
    db = instance(tree)
    assert expr(db["backup_retention_period"]) == "var.backup_retention_days"
    assert defaults(tree, POSTGRES)["backup_retention_days"] >= 1
    assert expr(db["deletion_protection"]) == "var.deletion_protection"
    settings = tree.locals_of(PLATFORM)["settings"]
    assert expr(settings["postgres_deletion_protection"]) == "local.is_prod"
    assert expr(settings["postgres_multi_az"]) == "local.is_prod"


def test_cpu_free_storage_and_connections_alarm_into_the_platform_topic(
    tree: TerraformTree,
) -> None:
    alarms = tree.locals_of(POSTGRES)["alarms"]
    assert {alarm["metric"] for alarm in alarms.values()} == {
        "CPUUtilization",
        "FreeStorageSpace",
        "DatabaseConnections",
    }
    alarm = tree.resource(POSTGRES, "aws_cloudwatch_metric_alarm", "this")
    assert alarm["alarm_actions"] == ["${var.alarm_topic_arn}"]
    call = tree.module_calls(PLATFORM)["postgres"]
    assert expr(call["alarm_topic_arn"]) == "module.monitoring.sns_topic_arn"


def test_postgresql_is_off_unless_asked_for(tree: TerraformTree) -> None:
    assert defaults(tree, PLATFORM)["postgres_enabled"] is False
    assert expr(tree.module_calls(PLATFORM)["postgres"]["count"]) == (
        "var.postgres_enabled ? 1 : 0"
    )
    assert defaults(tree, RELEASE)["feedback_database_secret_name"] is None


def test_the_secret_name_yields_a_soradeployment_on_postgresql(tree: TerraformTree) -> None:
    release = tree.locals_of(RELEASE)
    section = release["feedback_database"]
    assert expr(release["use_postgresql"]) == "var.feedback_database_secret_name != null"
    assert "local.use_postgresql" in expr(section)
    # The PostgreSQL branch of the conditional, as the chart passes it to the operator.
    database = {
        "engine": "postgresql",
        "urlSecretRef": {"name": "sora-feedback-database", "key": "url"},
    }
    assert '"postgresql"' in expr(section)
    body = {
        "metadata": {"name": "sora", "namespace": "sora", "uid": "u", "generation": 1},
        "spec": {"environment": "prod", "feedbackApi": {"database": database}},
    }
    api = parse(body, ImageDefaults("r", "t")).feedback_api
    assert api.database.is_postgresql
    assert api.replicas == 2
    secret = tree.resource(PLATFORM, "kubernetes_secret_v1", "feedback_database")
    metadata = secret["metadata"][0] if isinstance(secret["metadata"], list) else secret["metadata"]
    assert expr(metadata["name"]) == "local.feedback_database_secret_name"
    assert expr(tree.module_calls(PLATFORM)["sora"]["feedback_database_secret_name"]) == (
        "var.postgres_enabled ? local.feedback_database_secret_name : null"
    )
