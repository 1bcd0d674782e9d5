"""Shape of the Terraform tree: modules as terraform-aws-modules lays them out, documented
interfaces, pinned providers, the remote state, one configuration per environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from terraform_hcl import (
    BOOTSTRAP,
    MODULES,
    PLATFORM,
    TERRAFORM,
    TerraformTree,
    expr,
    parse,
    terraform_files,
)

ENVIRONMENTS = ("dev", "staging", "prod")
MODULE_DIRS = sorted(path for path in MODULES.iterdir() if path.is_dir())
ROOT_DIRS = [PLATFORM, BOOTSTRAP]


def test_the_tree_has_modules_and_roots() -> None:
    names = {path.name for path in MODULE_DIRS}
    assert {
        "network",
        "eks",
        "alb-controller",
        "storage",
        "ecr",
        "workload-iam",
        "monitoring",
        "hardened-bucket",
    } <= names
    assert (PLATFORM / "main.tf").is_file()
    assert (BOOTSTRAP / "main.tf").is_file()


@pytest.mark.parametrize(
    "path", terraform_files(), ids=lambda path: str(path.relative_to(TERRAFORM))
)
def test_every_terraform_file_parses(path: Path) -> None:
    assert isinstance(parse(path), dict)


@pytest.mark.parametrize("module", MODULE_DIRS, ids=lambda path: path.name)
def test_every_module_has_the_standard_files(module: Path) -> None:
    missing = [
        name
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
        if not (module / name).is_file()
    ]
    assert not missing, f"{module.name} lacks {missing}"


def test_every_variable_is_described_and_typed(tree: TerraformTree) -> None:
    problems = [
        f"{path.relative_to(TERRAFORM)}: {name}"
        for path, name, body in tree.named("variable")
        if not str(body.get("description", "")).strip() or "type" not in body
    ]
    assert not problems, f"variables without description or type: {problems}"


def test_every_output_is_described(tree: TerraformTree) -> None:
    problems = [
        f"{path.relative_to(TERRAFORM)}: {name}"
        for path, name, body in tree.named("output")
        if not str(body.get("description", "")).strip()
    ]
    assert not problems, f"outputs without description: {problems}"


def test_variables_and_outputs_live_in_their_own_files(tree: TerraformTree) -> None:
    misplaced = [
        f"{path.relative_to(TERRAFORM)}: {kind} {name}"
        for kind, filename in (("variable", "variables.tf"), ("output", "outputs.tf"))
        for path, name, _ in tree.named(kind)
        if path.name != filename
    ]
    assert not misplaced


@pytest.mark.parametrize("module", MODULE_DIRS, ids=lambda path: path.name)
def test_every_module_readme_documents_each_input_and_output(
    tree: TerraformTree, module: Path
) -> None:
    readme = (module / "README.md").read_text(encoding="utf-8")
    names = [name for path, name, _ in tree.named("variable") if path.parent == module]
    names += [name for path, name, _ in tree.named("output") if path.parent == module]
    undocumented = [name for name in names if f"`{name}`" not in readme]
    assert not undocumented, f"{module.name}/README.md does not list {undocumented}"
    for section in ("## Usage", "## Inputs", "## Outputs"):
        assert section in readme, f"{module.name}/README.md has no {section!r}"


def test_every_provider_is_pinned_below_its_next_major_version(tree: TerraformTree) -> None:
    constraints: dict[str, str] = {}
    for path, document in tree.files.items():
        for block in document.get("terraform", []):
            assert str(block.get("required_version", "")).startswith(">= 1.11"), path
            for providers in block.get("required_providers", []):
                for name, spec in providers.items():
                    constraints[f"{path.relative_to(TERRAFORM)}:{name}"] = spec["version"]
    assert constraints
    unpinned = {
        where: version for where, version in constraints.items() if not re.search(r"< ?\d", version)
    }
    assert not unpinned, f"provider constraints without an upper bound: {unpinned}"


def test_every_module_and_root_declares_its_versions(tree: TerraformTree) -> None:
    with_terraform_block = {
        path.parent for path, document in tree.files.items() if "terraform" in document
    }
    assert set(MODULE_DIRS) | set(ROOT_DIRS) <= with_terraform_block


def test_environment_is_validated_to_dev_staging_prod(tree: TerraformTree) -> None:
    environments = [
        (path, body) for path, name, body in tree.named("variable") if name == "environment"
    ]
    assert any(path.parent == PLATFORM for path, _ in environments)
    for path, body in environments:
        conditions = [expr(rule["condition"]) for rule in body.get("validation", [])]
        assert 'contains(["dev", "staging", "prod"], var.environment)' in conditions, path


def test_state_lives_in_s3_with_locking(tree: TerraformTree) -> None:
    (versions,) = [
        document for path, document in tree.files.items() if path == PLATFORM / "versions.tf"
    ]
    backend = versions["terraform"][0]["backend"][0]
    assert list(backend) == ["s3"]
    assert backend["s3"]["use_lockfile"] is True
    assert backend["s3"]["encrypt"] is True


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_has_its_variables_and_its_own_state_key(environment: str) -> None:
    tfvars = parse(PLATFORM / "env" / f"{environment}.tfvars")
    assert tfvars["environment"] == environment
    backend = parse(PLATFORM / "env" / f"{environment}.s3.tfbackend")
    assert backend["key"] == f"sora/{environment}/platform.tfstate"
    assert backend["use_lockfile"] is True


def test_the_state_bucket_cannot_be_destroyed_by_accident(tree: TerraformTree) -> None:
    assert tree.module_calls(BOOTSTRAP)["state_bucket"]["prevent_destroy"] is True
    bucket = tree.resource(MODULES / "hardened-bucket", "aws_s3_bucket", "protected")
    assert bucket["lifecycle"][0]["prevent_destroy"] is True


def test_every_checkov_exception_gives_its_reason() -> None:
    skip = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")
    problems = []
    for path in terraform_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = skip.search(line)
            if match and len((match.group(2) or "").strip()) < 20:
                problems.append(f"{path.relative_to(TERRAFORM)}:{number}")
    assert not problems, f"checkov skips without a reason: {problems}"


def test_terraform_tests_cover_every_environment() -> None:
    text = (PLATFORM / "tests" / "environments.tftest.hcl").read_text(encoding="utf-8")
    for environment in ENVIRONMENTS:
        assert f'environment = "{environment}"' in text
    assert "mock_provider" in text
