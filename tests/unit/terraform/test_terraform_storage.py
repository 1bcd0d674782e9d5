"""The buckets: every one goes through the hardened-bucket module (encrypted, private, versioned,
TLS-only, incomplete uploads aborted); what differs between them is passed by the callers (the
files bucket's lifecycle as the seed has it, the backup bucket's own retention, the access logs);
the state of the buckets from before the module moves to the new addresses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from terraform_hcl import BOOTSTRAP, MODULES, PLATFORM, TERRAFORM, TerraformTree, expr

STORAGE = MODULES / "storage"
HARDENED = MODULES / "hardened-bucket"

# Each bucket's module call, and its resource name before the module existed.
BUCKETS = {
    (STORAGE, "files_bucket"): "files",
    (STORAGE, "backup_bucket"): "backup",
    (STORAGE, "logs_bucket"): "logs",
    (BOOTSTRAP, "state_bucket"): "state",
}

# The settings of a bucket, each a resource of its own beside aws_s3_bucket.
SETTINGS = (
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_logging",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_lifecycle_configuration",
)

# The module's bucket is aws_s3_bucket.this[0], or .protected[0] with prevent_destroy.
THE_BUCKET_ID = "var.prevent_destroy ? aws_s3_bucket.protected[0].id : aws_s3_bucket.this[0].id"
THE_BUCKET_ARN = "var.prevent_destroy ? aws_s3_bucket.protected[0].arn : aws_s3_bucket.this[0].arn"


def bucket_calls(tree: TerraformTree) -> dict[tuple[Path, str], dict[str, Any]]:
    """Every call of the hardened-bucket module in the tree, by (calling directory, name)."""
    calls = {}
    for directory in {path.parent for path in tree.files}:
        for name, body in tree.module_calls(directory).items():
            if (directory / body["source"]).resolve() == HARDENED:
                calls[(directory, name)] = body
    return calls


def call(tree: TerraformTree, directory: Path, name: str) -> dict[str, Any]:
    return bucket_calls(tree)[(directory, name)]


def setting(tree: TerraformTree, type_: str) -> dict[str, Any]:
    return tree.resource(HARDENED, type_, "this")


# --- Every bucket is hardened --------------------------------------------------------------------


def test_every_bucket_is_a_hardened_bucket_module_call(tree: TerraformTree) -> None:
    assert set(bucket_calls(tree)) == set(BUCKETS)


def test_no_bucket_is_declared_outside_the_hardened_bucket_module(tree: TerraformTree) -> None:
    outside = [
        block.address
        for block in tree.blocks("resource")
        if block.type.startswith("aws_s3_bucket") and block.module_dir != HARDENED
    ]
    assert not outside, f"buckets or bucket settings that bypass hardened-bucket: {outside}"


def test_the_two_bucket_resources_differ_only_in_prevent_destroy(tree: TerraformTree) -> None:
    this = dict(tree.resource(HARDENED, "aws_s3_bucket", "this"))
    protected = dict(tree.resource(HARDENED, "aws_s3_bucket", "protected"))
    assert expr(this.pop("count")) == "var.prevent_destroy ? 0 : 1"
    assert expr(protected.pop("count")) == "var.prevent_destroy ? 1 : 0"
    assert protected.pop("lifecycle") == [{"prevent_destroy": True}]
    assert this == protected


@pytest.mark.parametrize("type_", SETTINGS)
def test_every_setting_applies_to_the_modules_bucket(tree: TerraformTree, type_: str) -> None:
    assert expr(setting(tree, type_)["bucket"]) == THE_BUCKET_ID


def test_every_bucket_is_versioned(tree: TerraformTree) -> None:
    versioning = setting(tree, "aws_s3_bucket_versioning")
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"


def test_every_bucket_is_encrypted_with_the_key_or_sse_s3(tree: TerraformTree) -> None:
    rule = setting(tree, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    default = rule["apply_server_side_encryption_by_default"][0]
    assert expr(default["sse_algorithm"]) == 'var.kms_key_arn == null ? "AES256" : "aws:kms"'
    assert expr(default["kms_master_key_id"]) == "var.kms_key_arn"
    assert expr(rule["bucket_key_enabled"]) == "var.kms_key_arn == null ? null : true"


def test_every_bucket_blocks_public_access(tree: TerraformTree) -> None:
    settings = setting(tree, "aws_s3_bucket_public_access_block")
    for flag in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert settings[flag] is True, flag


def test_every_bucket_disables_acls(tree: TerraformTree) -> None:
    controls = setting(tree, "aws_s3_bucket_ownership_controls")
    assert controls["rule"][0]["object_ownership"] == "BucketOwnerEnforced"


def test_every_bucket_refuses_plain_http(tree: TerraformTree) -> None:
    policy = setting(tree, "aws_s3_bucket_policy")
    assert expr(policy["policy"]) == "data.aws_iam_policy_document.this.json"
    document = tree.data(HARDENED, "aws_iam_policy_document", "this")
    (denial,) = [
        statement
        for statement in document["statement"]
        if statement.get("effect") == "Deny"
        and statement["condition"][0]["variable"] == "aws:SecureTransport"
        and statement["condition"][0]["values"] == ["false"]
    ]
    assert denial["actions"] == ["s3:*"]
    assert [expr(resource) for resource in denial["resources"]] == [
        THE_BUCKET_ARN,
        f"${{{THE_BUCKET_ARN}}}/*",
    ]
    assert denial["principals"][0] == {"type": "*", "identifiers": ["*"]}


def test_every_bucket_aborts_incomplete_uploads_after_seven_days(tree: TerraformTree) -> None:
    rules = tree.locals_of(HARDENED)
    assert rules["cleanup_rule"]["id"] == "cleanup_incomplete_uploads"
    assert rules["cleanup_rule"]["abort_incomplete_multipart_upload_days"] == 7
    assert "[local.cleanup_rule]" in expr(rules["lifecycle_rules"])
    lifecycle = setting(tree, "aws_s3_bucket_lifecycle_configuration")
    (rule,) = [entry["rule"] for entry in lifecycle["dynamic"]]
    assert expr(rule["for_each"]) == "local.lifecycle_rules"
    (content,) = rule["content"]
    assert content["status"] == "Enabled"
    (abort,) = [
        entry["abort_incomplete_multipart_upload"]
        for entry in content["dynamic"]
        if "abort_incomplete_multipart_upload" in entry
    ]
    days = abort["content"][0]["days_after_initiation"]
    assert expr(days) == "abort_incomplete_multipart_upload.value"


# --- What each bucket is given -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("directory", "name", "key"),
    [
        (STORAGE, "files_bucket", "aws_kms_key.this.arn"),
        (STORAGE, "backup_bucket", "aws_kms_key.this.arn"),
        (BOOTSTRAP, "state_bucket", "aws_kms_key.state.arn"),
    ],
)
def test_data_buckets_use_their_customer_managed_key(
    tree: TerraformTree, directory: Path, name: str, key: str
) -> None:
    assert expr(call(tree, directory, name)["kms_key_arn"]) == key


def test_the_access_log_bucket_uses_sse_s3(tree: TerraformTree) -> None:
    # S3 server access log delivery refuses SSE-KMS targets.
    assert call(tree, STORAGE, "logs_bucket").get("kms_key_arn") is None


def test_data_buckets_log_their_access(tree: TerraformTree) -> None:
    logged = {
        name: body["logging"] for (_, name), body in bucket_calls(tree).items() if "logging" in body
    }
    assert set(logged) == {"files_bucket", "backup_bucket"}
    assert logged["files_bucket"]["target_prefix"] == "files/"
    assert logged["backup_bucket"]["target_prefix"] == "backup/"
    for settings in logged.values():
        assert expr(settings["target_bucket"]) == "module.logs_bucket.id"


def test_only_the_data_buckets_may_deliver_logs_to_the_log_bucket(tree: TerraformTree) -> None:
    logs = call(tree, STORAGE, "logs_bucket")
    assert [expr(document) for document in logs["source_policy_documents"]] == [
        "data.aws_iam_policy_document.log_delivery.json"
    ]
    (statement,) = tree.data(STORAGE, "aws_iam_policy_document", "log_delivery")["statement"]
    assert statement["actions"] == ["s3:PutObject"]
    assert [expr(resource) for resource in statement["resources"]] == [
        "${module.logs_bucket.arn}/*"
    ]
    assert statement["principals"][0]["identifiers"] == ["logging.s3.amazonaws.com"]
    conditions = {condition["variable"]: condition for condition in statement["condition"]}
    assert [expr(value) for value in conditions["aws:SourceAccount"]["values"]] == [
        "local.account_id"
    ]
    assert [expr(value) for value in conditions["aws:SourceArn"]["values"]] == [
        "module.files_bucket.arn",
        "module.backup_bucket.arn",
    ]


def test_environment_buckets_follow_force_destroy(tree: TerraformTree) -> None:
    for name in ("files_bucket", "backup_bucket", "logs_bucket"):
        assert expr(call(tree, STORAGE, name)["force_destroy"]) == "var.force_destroy", name


def test_the_state_bucket_is_never_force_destroyed(tree: TerraformTree) -> None:
    state = call(tree, BOOTSTRAP, "state_bucket")
    assert "force_destroy" not in state
    variables = {
        name: body for path, name, body in tree.named("variable") if path.parent == HARDENED
    }
    assert variables["force_destroy"]["default"] is False
    assert variables["prevent_destroy"]["default"] is False


def files_lifecycle_rule(tree: TerraformTree, rule_id: str) -> dict[str, Any]:
    files = call(tree, STORAGE, "files_bucket")
    rules = files["lifecycle_rules"] + files["lifecycle_rules_after_cleanup"]
    (rule,) = [rule for rule in rules if rule["id"] == rule_id]
    return dict(rule)


def test_files_move_to_ia_at_30_glacier_at_90_and_deep_archive_at_365(tree: TerraformTree) -> None:
    steps = tree.locals_of(STORAGE)["files_transitions"]
    assert [(step["days"], step["storage_class"]) for step in steps] == [
        (30, "STANDARD_IA"),
        (90, "GLACIER"),
        (365, "DEEP_ARCHIVE"),
    ]
    rule = files_lifecycle_rule(tree, "transition_to_ia")
    assert expr(rule["transitions"]) == (
        "[for step in local.files_transitions : step if step.days < var.files_expiration_days]"
    )


def test_files_expire_after_2555_days_in_prod_and_365_elsewhere(tree: TerraformTree) -> None:
    rule = files_lifecycle_rule(tree, "transition_to_ia")
    assert expr(rule["expiration_days"]) == "var.files_expiration_days"
    settings = tree.locals_of(PLATFORM)["settings"]
    assert expr(settings["files_expiration_days"]) == "local.is_prod ? 2555 : 365"
    assert expr(tree.locals_of(PLATFORM)["is_prod"]) == 'var.environment == "prod"'
    platform_call = tree.module_calls(PLATFORM)["storage"]
    assert expr(platform_call["files_expiration_days"]) == "local.settings.files_expiration_days"


def test_old_versions_of_files_expire(tree: TerraformTree) -> None:
    rule = files_lifecycle_rule(tree, "expire_noncurrent_versions")
    days = rule["noncurrent_version_expiration_days"]
    assert expr(days) == "var.noncurrent_version_expiration_days"


def test_deleted_backups_stay_recoverable_for_the_buckets_own_retention(
    tree: TerraformTree,
) -> None:
    rules = expr(call(tree, STORAGE, "backup_bucket")["lifecycle_rules"])
    assert (
        '{id = "expire_deleted_backups", '
        "noncurrent_version_expiration_days = var.backup_noncurrent_days, "
        "expired_object_delete_marker = true}"
    ) in rules
    settings = tree.locals_of(PLATFORM)["settings"]
    assert expr(settings["backup_noncurrent_days"]) == "local.is_prod ? 90 : 30"


def test_no_current_backup_expires_unless_asked(tree: TerraformTree) -> None:
    # sora-backup prune always keeps the newest verified backup; a bucket expiry would not.
    rules = expr(call(tree, STORAGE, "backup_bucket")["lifecycle_rules"])
    assert (
        "var.backup_expiration_days == null ? [] : "
        '[{id = "expire_backups", expiration_days = var.backup_expiration_days}]'
    ) in rules
    variables = {
        name: body for path, name, body in tree.named("variable") if path.parent == STORAGE
    }
    assert variables["backup_expiration_days"]["default"] is None


def test_access_logs_expire(tree: TerraformTree) -> None:
    (rule,) = call(tree, STORAGE, "logs_bucket")["lifecycle_rules"]
    assert rule["id"] == "expire_access_logs"
    assert expr(rule["expiration_days"]) == "var.access_log_expiration_days"
    assert rule["noncurrent_version_expiration_days"] == 7


def test_old_state_versions_expire(tree: TerraformTree) -> None:
    (rule,) = call(tree, BOOTSTRAP, "state_bucket")["lifecycle_rules"]
    assert rule["id"] == "expire_old_state_versions"
    days = rule["noncurrent_version_expiration_days"]
    assert expr(days) == "var.noncurrent_version_expiration_days"


def test_every_kms_key_rotates(tree: TerraformTree) -> None:
    keys = list(tree.blocks("resource", "aws_kms_key"))
    assert len(keys) >= 4
    assert all(key.body["enable_key_rotation"] is True for key in keys), [
        key.address for key in keys
    ]


# --- The move into the module --------------------------------------------------------------------


def expected_moves(directory: Path, name: str, old: str, tree: TerraformTree) -> dict[str, str]:
    body = call(tree, directory, name)
    bucket = "protected" if body.get("prevent_destroy") is True else "this"
    moves = {f"aws_s3_bucket.{old}": f"module.{name}.aws_s3_bucket.{bucket}[0]"}
    for type_ in SETTINGS:
        if type_ == "aws_s3_bucket_logging":
            if "logging" in body:
                moves[f"{type_}.{old}"] = f"module.{name}.{type_}.this[0]"
        else:
            moves[f"{type_}.{old}"] = f"module.{name}.{type_}.this"
    return moves


@pytest.mark.parametrize(
    ("directory", "name"), list(BUCKETS), ids=lambda value: getattr(value, "name", value)
)
def test_existing_state_moves_to_the_module_without_replacing_a_bucket(
    tree: TerraformTree, directory: Path, name: str
) -> None:
    # Without a moved block, the plan of an existing environment would destroy the old address
    # and create the new one: a production bucket (and everything in it) gone.
    expected = expected_moves(directory, name, BUCKETS[(directory, name)], tree)
    moves = tree.moved(directory)
    missing = {old: new for old, new in expected.items() if moves.get(old) != new}
    assert not missing, f"{directory.relative_to(TERRAFORM)} lacks moved blocks {missing}"


def test_every_moved_block_targets_an_address_the_module_declares(tree: TerraformTree) -> None:
    declared = {
        (block.type, block.name, "count" in block.body)
        for block in tree.blocks("resource")
        if block.module_dir == HARDENED
    }
    for directory in (STORAGE, BOOTSTRAP):
        for old, new in tree.moved(directory).items():
            _, _, type_, name = new.split(".")
            counted = name.endswith("[0]")
            assert (type_, name.removesuffix("[0]"), counted) in declared, f"{old} -> {new}"
