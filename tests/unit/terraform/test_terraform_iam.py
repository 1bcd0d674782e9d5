"""IAM: no policy grants every action on every resource, and the workload roles hold exactly what
the issue allows them."""

from __future__ import annotations

import re
from typing import Any

from terraform_hcl import MODULES, TERRAFORM, TerraformTree, expr, terraform_files

WORKLOAD_IAM = MODULES / "workload-iam"
IRSA_ROLE = MODULES / "irsa-role"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_policy_document_allows_every_action_on_every_resource(tree: TerraformTree) -> None:
    offenders = []
    for block in tree.blocks("data", "aws_iam_policy_document"):
        for statement in block.body.get("statement", []):
            if statement.get("effect", "Allow") != "Allow":
                continue
            if "*" in as_list(statement.get("actions", [])) and "*" in as_list(
                statement.get("resources", [])
            ):
                offenders.append(f"{block.address} {statement.get('sid', '')}")
    assert not offenders, f"'*' actions on '*' resources: {offenders}"


def test_no_policy_allows_a_bare_wildcard_action_anywhere() -> None:
    # Catches jsonencode()d or heredoc policies too: a lone "*" as an action, in any spelling.
    wildcard_action = re.compile(r"""(actions|Action)\s*[=:]\s*\[?\s*"\*"\s*[\],\n]""")
    offenders = [
        str(path.relative_to(TERRAFORM))
        for path in terraform_files()
        if wildcard_action.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders


def test_no_role_gets_administrator_or_power_user_access(tree: TerraformTree) -> None:
    attached = [
        expr(block.body["policy_arn"])
        for block in tree.blocks("resource", "aws_iam_role_policy_attachment")
    ]
    attached += [
        expr(arn)
        for call in (
            tree.module_calls(directory) for directory in {path.parent for path in tree.files}
        )
        for module in call.values()
        for arn in module.get("managed_policies", {}).values()
    ]
    assert any("AmazonEBSCSIDriverPolicy" in arn for arn in attached)
    assert not [
        arn
        for arn in attached
        if "AdministratorAccess" in arn or "PowerUserAccess" in arn or "FullAccess" in arn
    ]


def statements(tree: TerraformTree, name: str) -> dict[str, dict[str, Any]]:
    document = tree.data(WORKLOAD_IAM, "aws_iam_policy_document", name)
    return {statement["sid"]: statement for statement in document["statement"]}


def test_the_file_server_may_only_read_the_files_bucket(tree: TerraformTree) -> None:
    granted = statements(tree, "file_server")
    actions = sorted(action for statement in granted.values() for action in statement["actions"])
    assert actions == ["kms:Decrypt", "s3:GetObject", "s3:ListBucket"]
    assert [expr(arn) for arn in granted["ListTheFilesBucket"]["resources"]] == [
        "var.files_bucket_arn"
    ]
    assert granted["ReadTheFiles"]["resources"] == ["${var.files_bucket_arn}/*"]
    assert [expr(arn) for arn in granted["DecryptTheFiles"]["resources"]] == ["var.kms_key_arn"]


def test_the_backup_jobs_may_only_touch_their_prefix(tree: TerraformTree) -> None:
    granted = statements(tree, "backup")
    objects = granted["WriteReadTagAndPruneBackups"]
    assert sorted(objects["actions"]) == [
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:GetObjectTagging",
        "s3:PutObject",
        "s3:PutObjectTagging",
    ]
    assert [expr(arn) for arn in objects["resources"]] == ["local.backup_prefix_objects"]
    assert (
        tree.locals_of(WORKLOAD_IAM)["backup_prefix_objects"]
        == "${var.backup_bucket_arn}/${var.backup_prefix}*"
    )
    listing = granted["ListTheBackupPrefix"]
    assert listing["actions"] == ["s3:ListBucket"]
    assert listing["condition"][0]["variable"] == "s3:prefix"
    assert listing["condition"][0]["values"] == ["${var.backup_prefix}", "${var.backup_prefix}*"]
    # Nothing else: in particular no s3:DeleteObjectVersion, so deleted backups stay recoverable.
    others = {
        action
        for sid, statement in granted.items()
        if sid != "WriteReadTagAndPruneBackups"
        for action in statement["actions"]
    }
    assert others == {"s3:ListBucket", "kms:GenerateDataKey", "kms:Decrypt"}


def test_kms_use_by_workloads_goes_through_s3_only(tree: TerraformTree) -> None:
    for name in ("file_server", "backup"):
        (kms,) = [
            statement
            for statement in statements(tree, name).values()
            if statement["actions"][0].startswith("kms:")
        ]
        assert kms["condition"][0]["variable"] == "kms:ViaService"


def test_irsa_roles_trust_exact_service_accounts_and_the_sts_audience(tree: TerraformTree) -> None:
    trust = tree.data(IRSA_ROLE, "aws_iam_policy_document", "assume")["statement"][0]
    assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    conditions = {condition["variable"]: condition for condition in trust["condition"]}
    assert conditions["${var.oidc_issuer}:aud"]["values"] == ["sts.amazonaws.com"]
    assert conditions["${var.oidc_issuer}:sub"]["test"] == "StringEquals"
    assert all(condition["test"] == "StringEquals" for condition in conditions.values())


def test_the_load_balancer_controller_is_held_to_its_own_cluster(tree: TerraformTree) -> None:
    controller = MODULES / "alb-controller"
    local_values = tree.locals_of(controller)
    assert local_values["cluster_tag_request"] == "aws:RequestTag/elbv2.k8s.aws/cluster"
    assert local_values["cluster_tag_resource"] == "aws:ResourceTag/elbv2.k8s.aws/cluster"
    tag_variables = {"${local.cluster_tag_request}", "${local.cluster_tag_resource}"}
    document = tree.data(controller, "aws_iam_policy_document", "controller")
    tag_conditions = [
        condition
        for statement in document["statement"]
        for condition in statement.get("condition", [])
        if condition["variable"] in tag_variables and condition["test"] != "Null"
    ]
    assert len(tag_conditions) >= 6
    # The published policy only asks for "some" cluster tag (Null = false); this one names ours.
    assert all(condition["test"] == "StringEquals" for condition in tag_conditions)
    assert all(condition["values"] == ["${var.cluster_name}"] for condition in tag_conditions)
