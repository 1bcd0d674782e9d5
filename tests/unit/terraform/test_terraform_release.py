"""The documented Terraform path (platform root → sora-release) yields a platform that backs up.

The backup section sora-release renders is evaluated with the values the platform root
passes and read by the operator's own spec parser: a change anywhere along that path that
leaves backups off (a dropped ``enabled``, a default turned false, a bucket no longer passed)
fails here. ``terraform test`` (tests/integration/terraform) checks the same plan where the
provider mirror is built; this runs on every machine.
"""

from __future__ import annotations

import re
from typing import Any

from terraform_hcl import MODULES, PLATFORM, TerraformTree, expr

from sora_operator.spec import ImageDefaults, parse

RELEASE = MODULES / "sora-release"
IMAGE = ImageDefaults("registry.example/sora/services", "1.2.3")


def _variable_defaults(tree: TerraformTree) -> dict[str, Any]:
    return {
        name: body.get("default")
        for path, name, body in tree.named("variable")
        if path.parent == RELEASE
    }


def _evaluate(value: Any, scope: dict[str, Any]) -> Any:
    """Resolve the plain references (``${var.x}``, ``${(local.x)}``) of a HCL value."""
    if isinstance(value, dict):
        return {_evaluate(k, scope): _evaluate(v, scope) for k, v in value.items()}
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{\(?((?:var|local)\.\w+)\)?\}", value)
        return scope[match.group(1)] if match else value
    return value


def _release_backup_section(tree: TerraformTree) -> dict[str, Any]:
    call = tree.module_calls(PLATFORM)["sora"]
    assert expr(call["source"]) == "../modules/sora-release"
    scope = {f"var.{name}": default for name, default in _variable_defaults(tree).items()}
    for name, value in call.items():
        scope[f"var.{name}"] = f"<{expr(value)}>"  # what the root passes, by its expression
    scope.update({f"local.{k}": v for k, v in tree.locals_of(RELEASE).items()})
    section: dict[str, Any] = _evaluate(tree.locals_of(RELEASE)["backup_values"], scope)
    return section


def test_the_release_module_takes_backups_unless_told_otherwise(tree: TerraformTree) -> None:
    assert _variable_defaults(tree)["backup_enabled"] is True
    assert "backup_enabled" not in tree.module_calls(PLATFORM)["sora"]
    assert "local.backup_values" in tree.locals_of(RELEASE)["platform_values"]


def test_the_terraform_path_yields_a_soradeployment_that_backs_up(tree: TerraformTree) -> None:
    section = _release_backup_section(tree)
    assert section["bucket"] == "<module.storage.backup_bucket_name>"
    body = {
        "metadata": {"name": "sora", "namespace": "sora", "uid": "u", "generation": 1},
        "spec": {"environment": "prod", "backup": section},
    }
    backup = parse(body, IMAGE).backup
    assert backup.enabled
    assert backup.bucket == "<module.storage.backup_bucket_name>"
    assert backup.service_account_annotations == {
        "eks.amazonaws.com/role-arn": "<module.workload_iam.backup_role_arn>"
    }


PLATFORM_KEYS = MODULES / "platform-keys"


def test_the_platform_keys_live_in_secrets_manager_under_their_own_kms_key(
    tree: TerraformTree,
) -> None:
    secret = tree.resource(PLATFORM_KEYS, "aws_secretsmanager_secret", "platform_keys")
    assert expr(secret["kms_key_id"]) == "aws_kms_key.platform_keys.arn"
    key = tree.resource(PLATFORM_KEYS, "aws_kms_key", "platform_keys")
    assert key["enable_key_rotation"] is True
    version = tree.resource(PLATFORM_KEYS, "aws_secretsmanager_secret_version", "platform_keys")
    assert "secret_string" in str(version["lifecycle"][0]["ignore_changes"])  # never replaced
    assert "platform_keys" in tree.module_calls(PLATFORM)


def test_an_escrowed_secret_reaches_the_soradeployment_as_its_existing_secret(
    tree: TerraformTree,
) -> None:
    assert "var.platform_secret_name" in expr(tree.locals_of(RELEASE)["platform_values"])
    assert expr(tree.module_calls(PLATFORM)["sora"]["platform_secret_name"]) == (
        "var.platform_secret_name"
    )
    body = {
        "metadata": {"name": "sora", "namespace": "sora", "uid": "u", "generation": 1},
        "spec": {"environment": "prod", "feedbackApi": {"existingSecret": "sora-keys"}},
    }
    feedback_api = parse(body, IMAGE).feedback_api
    assert (feedback_api.secret_name, feedback_api.secret_is_external) == ("sora-keys", True)
