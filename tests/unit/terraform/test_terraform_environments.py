"""Per-environment rules, decided in one place (terraform/platform/locals.tf) and used by the
modules: the seed's cost rules outside prod, its durability rules in prod."""

from __future__ import annotations

import json

from terraform_hcl import MODULES, PLATFORM, TERRAFORM, TerraformTree, expr

NETWORK = MODULES / "network"
EKS = MODULES / "eks"


def setting(tree: TerraformTree, name: str) -> str:
    return expr(tree.locals_of(PLATFORM)["settings"][name])


def test_prod_is_recognised_by_its_name(tree: TerraformTree) -> None:
    assert expr(tree.locals_of(PLATFORM)["is_prod"]) == 'var.environment == "prod"'


def test_prod_gets_a_nat_gateway_per_zone_and_other_environments_one(tree: TerraformTree) -> None:
    assert setting(tree, "one_nat_gateway_per_az") == "local.is_prod"
    assert expr(tree.module_calls(PLATFORM)["network"]["one_nat_gateway_per_az"]) == (
        "local.settings.one_nat_gateway_per_az"
    )
    assert (
        expr(tree.locals_of(NETWORK)["nat_gateway_count"])
        == "var.one_nat_gateway_per_az ? local.az_count : 1"
    )
    assert (
        expr(tree.resource(NETWORK, "aws_nat_gateway", "this")["count"])
        == "local.nat_gateway_count"
    )
    assert expr(tree.resource(NETWORK, "aws_eip", "nat")["count"]) == "local.nat_gateway_count"


def test_private_subnets_route_through_their_own_zones_nat_gateway_when_there_is_one(
    tree: TerraformTree,
) -> None:
    route = tree.resource(NETWORK, "aws_route", "private_nat")
    assert (
        expr(route["nat_gateway_id"])
        == "aws_nat_gateway.this[min(count.index, local.nat_gateway_count - 1)].id"
    )


def test_the_network_spans_two_zones_by_default(tree: TerraformTree) -> None:
    variables = {
        name: body for path, name, body in tree.named("variable") if path.parent == PLATFORM
    }
    assert variables["availability_zones"]["default"] == ["ap-northeast-1a", "ap-northeast-1c"]
    network = {name: body for path, name, body in tree.named("variable") if path.parent == NETWORK}
    assert network["public_subnet_cidrs"]["default"] == ["10.0.1.0/24", "10.0.2.0/24"]


def test_nodes_are_spot_outside_prod_and_on_demand_in_prod(tree: TerraformTree) -> None:
    assert setting(tree, "node_capacity_type") == 'local.is_prod ? "ON_DEMAND" : "SPOT"'
    assert (
        expr(tree.module_calls(PLATFORM)["eks"]["capacity_type"])
        == "local.settings.node_capacity_type"
    )
    node_group = tree.resource(EKS, "aws_eks_node_group", "this")
    assert expr(node_group["capacity_type"]) == "var.capacity_type"


def test_logs_are_kept_30_days_in_prod_and_7_elsewhere(tree: TerraformTree) -> None:
    assert setting(tree, "log_retention_days") == "local.is_prod ? 30 : 7"
    calls = tree.module_calls(PLATFORM)
    for module in ("monitoring", "eks"):
        assert expr(calls[module]["log_retention_days"]) == "local.settings.log_retention_days", (
            module
        )
    log_groups = list(tree.blocks("resource", "aws_cloudwatch_log_group"))
    assert len(log_groups) >= 3
    for group in log_groups:
        assert expr(group.body["retention_in_days"]).startswith("var."), group.address
        assert "kms_key_id" in group.body, group.address


def test_image_tags_are_immutable_in_prod(tree: TerraformTree) -> None:
    assert setting(tree, "image_tag_mutability") == 'local.is_prod ? "IMMUTABLE" : "MUTABLE"'
    repository = tree.resource(MODULES / "ecr", "aws_ecr_repository", "this")
    assert expr(repository["image_tag_mutability"]) == "var.image_tag_mutability"


def test_images_are_scanned_on_push_and_untagged_ones_expire(tree: TerraformTree) -> None:
    ecr = MODULES / "ecr"
    repository = tree.resource(ecr, "aws_ecr_repository", "this")
    assert repository["image_scanning_configuration"][0]["scan_on_push"] is True
    policy = expr(tree.resource(ecr, "aws_ecr_lifecycle_policy", "this")["policy"])
    assert 'tagStatus = "untagged"' in policy
    # One repository per image of terraform/delivery.json (test_terraform_delivery checks the
    # formula the workflow shares).
    images = json.loads((TERRAFORM / "delivery.json").read_text(encoding="utf-8"))["images"]
    assert set(images) == {"services", "operator"}
    assert "keys(local.delivery.images)" in expr(tree.locals_of(PLATFORM)["ecr_repositories"])
