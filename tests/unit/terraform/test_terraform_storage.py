"""The buckets: every one encrypted, private, versioned, TLS-only; the files bucket's lifecycle as
the seed has it; the backup bucket with its own retention."""

from __future__ import annotations

import pytest
from terraform_hcl import MODULES, PLATFORM, TerraformTree, expr

STORAGE = MODULES / "storage"


def bucket_addresses(tree: TerraformTree) -> list[tuple[str, str]]:
    return [
        (str(block.module_dir), block.name) for block in tree.blocks("resource", "aws_s3_bucket")
    ]


def companions(tree: TerraformTree, type_: str) -> dict[tuple[str, str], dict[str, object]]:
    """Resources of ``type_`` by the bucket they configure (``aws_s3_bucket.<name>.id``)."""
    found = {}
    for block in tree.blocks("resource", type_):
        target = expr(block.body["bucket"])
        assert target.startswith("aws_s3_bucket."), block.address
        assert target.endswith(".id"), block.address
        found[(str(block.module_dir), target.split(".")[1])] = block.body
    return found


def test_there_are_buckets_to_check(tree: TerraformTree) -> None:
    names = {name for _, name in bucket_addresses(tree)}
    assert {"files", "backup", "logs", "state"} <= names


def test_every_bucket_is_encrypted(tree: TerraformTree) -> None:
    encryption = companions(tree, "aws_s3_bucket_server_side_encryption_configuration")
    for address in bucket_addresses(tree):
        assert address in encryption, f"{address} has no server-side encryption"
        default = encryption[address]["rule"][0]["apply_server_side_encryption_by_default"][0]
        assert default["sse_algorithm"] in {"aws:kms", "AES256"}, address


def test_every_bucket_blocks_public_access(tree: TerraformTree) -> None:
    blocks = companions(tree, "aws_s3_bucket_public_access_block")
    for address in bucket_addresses(tree):
        assert address in blocks, f"{address} has no public access block"
        settings = blocks[address]
        for flag in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ):
            assert settings[flag] is True, f"{address}: {flag}"


def test_every_bucket_is_versioned(tree: TerraformTree) -> None:
    versioning = companions(tree, "aws_s3_bucket_versioning")
    for address in bucket_addresses(tree):
        assert versioning[address]["versioning_configuration"][0]["status"] == "Enabled", address


def test_every_bucket_refuses_plain_http(tree: TerraformTree) -> None:
    policies = companions(tree, "aws_s3_bucket_policy")
    for module_dir, name in bucket_addresses(tree):
        policy = expr(policies[(module_dir, name)]["policy"])
        document_name = policy.removeprefix("data.aws_iam_policy_document.").removesuffix(".json")
        document = next(
            block.body
            for block in tree.blocks("data", "aws_iam_policy_document")
            if str(block.module_dir) == module_dir and block.name == document_name
        )
        denials = [
            statement
            for statement in document["statement"]
            if statement.get("effect") == "Deny"
            and statement["condition"][0]["variable"] == "aws:SecureTransport"
            and statement["condition"][0]["values"] == ["false"]
        ]
        assert denials, f"{name} admits plain HTTP"


def test_every_bucket_aborts_incomplete_uploads_after_seven_days(tree: TerraformTree) -> None:
    lifecycles = companions(tree, "aws_s3_bucket_lifecycle_configuration")
    for address in bucket_addresses(tree):
        days = [
            rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"]
            for rule in lifecycles[address]["rule"]
            if "abort_incomplete_multipart_upload" in rule
        ]
        assert days == [7], address


def test_data_buckets_log_their_access(tree: TerraformTree) -> None:
    logging = companions(tree, "aws_s3_bucket_logging")
    assert {name for (_, name) in logging} == {"files", "backup"}
    for settings in logging.values():
        assert expr(settings["target_bucket"]) == "aws_s3_bucket.logs.id"


def files_lifecycle_rule(tree: TerraformTree, rule_id: str) -> dict[str, object]:
    lifecycle = tree.resource(STORAGE, "aws_s3_bucket_lifecycle_configuration", "files")
    return next(rule for rule in lifecycle["rule"] if rule["id"] == rule_id)


def test_files_move_to_ia_at_30_glacier_at_90_and_deep_archive_at_365(tree: TerraformTree) -> None:
    steps = tree.locals_of(STORAGE)["files_transitions"]
    assert [(step["days"], step["storage_class"]) for step in steps] == [
        (30, "STANDARD_IA"),
        (90, "GLACIER"),
        (365, "DEEP_ARCHIVE"),
    ]
    rule = files_lifecycle_rule(tree, "transition_to_ia")
    transition = rule["dynamic"][0]["transition"]
    assert "local.files_transitions" in expr(transition["for_each"])


def test_files_expire_after_2555_days_in_prod_and_365_elsewhere(tree: TerraformTree) -> None:
    rule = files_lifecycle_rule(tree, "transition_to_ia")
    assert expr(rule["expiration"][0]["days"]) == "var.files_expiration_days"
    settings = tree.locals_of(PLATFORM)["settings"]
    assert expr(settings["files_expiration_days"]) == "local.is_prod ? 2555 : 365"
    assert expr(tree.locals_of(PLATFORM)["is_prod"]) == 'var.environment == "prod"'
    call = tree.module_calls(PLATFORM)["storage"]
    assert expr(call["files_expiration_days"]) == "local.settings.files_expiration_days"


def test_files_bucket_aborts_incomplete_multipart_uploads_after_7_days(tree: TerraformTree) -> None:
    rule = files_lifecycle_rule(tree, "cleanup_incomplete_uploads")
    assert rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 7


def test_deleted_backups_stay_recoverable_for_the_buckets_own_retention(
    tree: TerraformTree,
) -> None:
    lifecycle = tree.resource(STORAGE, "aws_s3_bucket_lifecycle_configuration", "backup")
    (deleted,) = [rule for rule in lifecycle["rule"] if rule["id"] == "expire_deleted_backups"]
    expiry = deleted["noncurrent_version_expiration"][0]["noncurrent_days"]
    assert expr(expiry) == "var.backup_noncurrent_days"
    settings = tree.locals_of(PLATFORM)["settings"]
    assert expr(settings["backup_noncurrent_days"]) == "local.is_prod ? 90 : 30"


def test_no_current_backup_expires_unless_asked(tree: TerraformTree) -> None:
    # sora-backup prune always keeps the newest verified backup; a bucket expiry would not.
    lifecycle = tree.resource(STORAGE, "aws_s3_bucket_lifecycle_configuration", "backup")
    (optional,) = [rule["rule"] for rule in lifecycle["dynamic"]]
    assert expr(optional["for_each"]) == (
        "var.backup_expiration_days == null ? [] : [var.backup_expiration_days]"
    )
    variables = {
        name: body for path, name, body in tree.named("variable") if path.parent == STORAGE
    }
    assert variables["backup_expiration_days"]["default"] is None


@pytest.mark.parametrize("bucket", ["files", "backup"])
def test_data_buckets_use_the_customer_managed_key(tree: TerraformTree, bucket: str) -> None:
    encryption = tree.resource(
        STORAGE, "aws_s3_bucket_server_side_encryption_configuration", bucket
    )
    default = encryption["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert default["sse_algorithm"] == "aws:kms"
    assert expr(default["kms_master_key_id"]) == "aws_kms_key.this.arn"
    assert encryption["rule"][0]["bucket_key_enabled"] is True


def test_every_kms_key_rotates(tree: TerraformTree) -> None:
    keys = list(tree.blocks("resource", "aws_kms_key"))
    assert len(keys) >= 4
    assert all(key.body["enable_key_rotation"] is True for key in keys), [
        key.address for key in keys
    ]
