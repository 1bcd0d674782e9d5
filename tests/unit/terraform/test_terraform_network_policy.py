"""NetworkPolicies are enforced on the EKS Terraform builds, and the Terraform path passes the
ALB's source ranges, so that each service accepts traffic only from the ALB and its own platform
(the seed's security groups: task ports reachable only from the ALB).

The values sora-release renders are read from the HCL, resolved with what the platform root
passes and the network module's defaults, parsed by the operator's own spec parser and turned
into the NetworkPolicies the operator would apply.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from terraform_hcl import MODULES, PLATFORM, TerraformTree, expr

from sora_contract import layout
from sora_operator.builders import labels, networkpolicies
from sora_operator.spec import ImageDefaults, SoraDeployment, parse

EKS = MODULES / "eks"
NETWORK = MODULES / "network"
RELEASE = MODULES / "sora-release"
IMAGE = ImageDefaults("registry.example/sora/services", "1.2.3")


def _defaults(tree: TerraformTree, directory: Any) -> dict[str, Any]:
    return {n: b.get("default") for p, n, b in tree.named("variable") if p.parent == directory}


def _alb_source_cidrs(tree: TerraformTree) -> list[str]:
    """What the platform root passes as ingress_source_cidrs, with every default in place."""
    call = tree.module_calls(PLATFORM)["sora"]
    assert expr(call["ingress_source_cidrs"]) == "local.alb_source_cidrs"
    assert _defaults(tree, PLATFORM)["alb_source_cidrs"] is None
    assert expr(tree.locals_of(PLATFORM)["alb_source_cidrs"]) == (
        "var.alb_source_cidrs != null ? var.alb_source_cidrs : module.network.public_subnet_cidrs"
    )
    output = next(
        body
        for p, n, body in tree.named("output")
        if p.parent == NETWORK and n == "public_subnet_cidrs"
    )
    assert expr(output["value"]) == "aws_subnet.public[*].cidr_block"
    assert expr(tree.resource(NETWORK, "aws_subnet", "public")["cidr_block"]) == (
        "var.public_subnet_cidrs[count.index]"
    )
    cidrs: list[str] = _defaults(tree, NETWORK)["public_subnet_cidrs"]
    return cidrs


def _platform(tree: TerraformTree) -> SoraDeployment:
    platform_values = expr(tree.locals_of(RELEASE)["platform_values"])
    assert "sourceCidrs = var.ingress_source_cidrs" in platform_values
    spec = {
        "environment": "prod",
        "ingress": {"enabled": True, "className": "alb", "sourceCidrs": _alb_source_cidrs(tree)},
    }
    body = {"metadata": {"name": "sora", "namespace": "sora", "uid": "u", "generation": 1}}
    return parse({**body, "spec": spec}, IMAGE)


def test_the_vpc_cni_enforces_network_policies(tree: TerraformTree) -> None:
    configuration = expr(tree.locals_of(EKS)["addon_configuration"])
    assert '{"vpc-cni" = jsonencode({enableNetworkPolicy = "true"})}' in configuration
    addon = tree.resource(EKS, "aws_eks_addon", "before_nodes")
    assert (
        expr(addon["configuration_values"]) == "lookup(local.addon_configuration, each.key, null)"
    )
    assert "vpc-cni" in tree.locals_of(EKS)["addons_before_nodes"]


def test_the_services_admit_only_the_alb_subnets_and_their_own_platform(
    tree: TerraformTree,
) -> None:
    public = _alb_source_cidrs(tree)
    assert public == ["10.0.1.0/24", "10.0.2.0/24"]
    platform = _platform(tree)
    policies = {
        layout.FILE_SERVER_PORT: networkpolicies.file_server_policy(platform),
        layout.FEEDBACK_API_PORT: networkpolicies.feedback_api_policy(platform),
    }
    for port, policy in policies.items():
        (rule,) = policy["spec"]["ingress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": port}]
        # "from" present: without it the port would be open to every source.
        sources = rule["from"]
        blocks = [source["ipBlock"]["cidr"] for source in sources if "ipBlock" in source]
        assert blocks == public
        others = [source for source in sources if "ipBlock" not in source]
        assert others == [{"podSelector": {"matchLabels": labels.instance_labels(platform)}}]


def test_the_alb_ranges_cover_no_pod_subnet(tree: TerraformTree) -> None:
    private = [
        ipaddress.ip_network(cidr) for cidr in _defaults(tree, NETWORK)["private_subnet_cidrs"]
    ]
    for cidr in _alb_source_cidrs(tree):
        assert not any(ipaddress.ip_network(cidr).overlaps(net) for net in private), cidr


def test_an_open_range_is_refused(tree: TerraformTree) -> None:
    for directory, name in ((PLATFORM, "alb_source_cidrs"), (RELEASE, "ingress_source_cidrs")):
        variable = next(
            b for p, n, b in tree.named("variable") if p.parent == directory and n == name
        )
        assert 'cidr != "0.0.0.0/0"' in expr(variable["validation"][0]["condition"])
