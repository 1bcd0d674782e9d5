"""Delivery: the workflow, hack/rollout.sh and Terraform use the same names, from
terraform/delivery.json, and the CI roles are as narrow as the issue asks.

The names are resolved both ways: hack/delivery.py prints what the workflow uses; the HCL is read
to check that Terraform builds its names from the same file with the same formula.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from terraform_hcl import MODULES, PLATFORM, TERRAFORM, TerraformTree, expr

REPO = TERRAFORM.parent
DELIVERY = json.loads((TERRAFORM / "delivery.json").read_text(encoding="utf-8"))
GITHUB_CI = MODULES / "github-ci"
RELEASE = MODULES / "sora-release"
CI = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
ROLLOUT = (REPO / "hack" / "rollout.sh").read_text(encoding="utf-8")


def delivery(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "hack" / "delivery.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def target(ref: str) -> dict[str, str]:
    result = delivery("target", ref)
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in result.stdout.splitlines())


def defaults(tree: TerraformTree, directory: Path) -> dict[str, Any]:
    return {
        name: body.get("default")
        for path, name, body in tree.named("variable")
        if path.parent == directory
    }


def test_terraform_reads_its_delivery_names_from_the_shared_file(tree: TerraformTree) -> None:
    platform = tree.locals_of(PLATFORM)
    assert expr(platform["delivery"]) == 'jsondecode(file("${path.module}/../delivery.json"))'
    assert expr(platform["ecr_repositories"]) == (
        '{for image in keys(local.delivery.images) : image => "${local.name}/${image}"}'
    )
    assert platform["name"] == "${var.project}-${var.environment}"
    assert expr(platform["cluster_name"]) == "local.name"


def test_terraform_defaults_agree_with_the_shared_file(tree: TerraformTree) -> None:
    platform = defaults(tree, PLATFORM)
    assert platform["project"] == DELIVERY["project"]
    assert platform["aws_region"] == DELIVERY["aws_region"]
    # The platform release is the SoraDeployment: Terraform names it after these variables.
    assert platform["namespace"] == DELIVERY["releases"]["platform"]["namespace"]
    assert platform["sora_deployment_name"] == DELIVERY["releases"]["platform"]["name"]
    calls = tree.module_calls(PLATFORM)
    assert expr(calls["sora"]["operator_release_name"]) == "local.delivery.releases.operator.name"
    assert expr(calls["sora"]["operator_namespace"]) == "local.delivery.releases.operator.namespace"
    for component, release in DELIVERY["releases"].items():
        assert (REPO / release["chart"] / "Chart.yaml").is_file(), component


@pytest.mark.parametrize("branch", sorted(DELIVERY["deployments"]))
def test_the_workflow_names_are_the_ones_terraform_creates(branch: str) -> None:
    names = target(branch)
    environment = DELIVERY["deployments"][branch]
    prefix = f"{DELIVERY['project']}-{environment}"  # local.name
    assert names["environment"] == environment
    assert names["cluster_name"] == prefix
    assert names["push_role"] == f"{prefix}-{DELIVERY['roles']['push']}"
    assert names["deploy_role"] == f"{prefix}-{DELIVERY['roles']['deploy']}"
    for image in DELIVERY["images"]:
        assert names[f"{image}_repository"] == f"{prefix}/{image}"


def test_the_ci_roles_are_named_from_the_shared_file(tree: TerraformTree) -> None:
    call = tree.module_calls(PLATFORM)["github_ci"]
    assert expr(call["role_names"]) == "local.delivery.roles"
    assert expr(call["name"]) == "local.name"
    # The GitHub environment of the jobs is the Terraform environment of the state.
    assert expr(call["github_environment"]) == "var.environment"
    assert tree.resource(GITHUB_CI, "aws_iam_role", "push")["name"] == (
        "${var.name}-${var.role_names.push}"
    )
    assert tree.resource(GITHUB_CI, "aws_iam_role", "deploy")["name"] == (
        "${var.name}-${var.role_names.deploy}"
    )


def test_a_branch_without_a_deployment_deploys_nowhere() -> None:
    assert target("feature/x") == {"environment": ""}


def test_an_unknown_environment_is_refused_with_one_line() -> None:
    result = delivery("shell", "qa")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "delivery: environment must be one of dev, staging, prod, not 'qa'"
    )


def test_the_workflow_builds_and_pushes_every_image_of_the_shared_file() -> None:
    jobs = CI["jobs"]
    for job in ("images", "push"):
        assert jobs[job]["strategy"]["matrix"]["image"] == list(DELIVERY["images"])
    build = next(step for step in jobs["images"]["steps"] if "build-push-action" in str(step))
    for image, dockerfile in DELIVERY["images"].items():
        assert build["with"]["file"].replace("${{ matrix.image }}", image) == dockerfile
    push = next(step for step in jobs["push"]["steps"] if "docker push" in str(step))
    for image in DELIVERY["images"]:
        assert f"needs.target.outputs.{image}_repository" in push["env"]["REPOSITORY"]


def test_the_workflow_deploys_the_branches_of_the_shared_file() -> None:
    assert CI[True]["push"]["branches"] == list(DELIVERY["deployments"])  # yaml reads on: as True
    assert CI["jobs"]["push"]["environment"] == "${{ needs.target.outputs.environment }}"
    assert CI["jobs"]["deploy"]["environment"] == "${{ needs.target.outputs.environment }}"


def test_the_workflow_assumes_the_terraform_roles() -> None:
    jobs = CI["jobs"]
    roles = {
        job: step["with"]["role-to-assume"]
        for job in ("push", "deploy")
        for step in jobs[job]["steps"]
        if "configure-aws-credentials" in str(step.get("uses", ""))
    }
    assert roles["push"].endswith("role/${{ needs.target.outputs.push_role }}")
    assert roles["deploy"].endswith("role/${{ needs.target.outputs.deploy_role }}")
    # Every name the jobs read is one the target job exports, and one delivery.py prints.
    exported = set(jobs["target"]["outputs"])
    used = set(re.findall(r"needs\.target\.outputs\.(\w+)", json.dumps(jobs)))
    assert used <= exported
    assert exported <= set(target("main"))


def test_the_rollout_sets_the_chart_values_terraform_sets(tree: TerraformTree) -> None:
    sets = set(re.findall(r'--set "([\w.]+)=', ROLLOUT))
    assert sets == {"image.repository", "image.tag"}
    # sora-release renders image = {repository, tag} for both charts.
    operator_values = expr(tree.locals_of(RELEASE)["operator_values"])
    platform_values = expr(tree.locals_of(RELEASE)["platform_values"])
    for values in (operator_values, platform_values):
        assert re.search(r"image = \{repository = var\.\w+, tag = var\.\w+\}", values), values
    for chart in ("sora-operator", "sora"):
        chart_values = yaml.safe_load((REPO / "charts" / chart / "values.yaml").read_text())
        assert {"repository", "tag"} <= set(chart_values["image"]), chart
    assert "helm upgrade" in ROLLOUT
    assert "--atomic" in ROLLOUT
    assert "--for=condition=Ready" in ROLLOUT


def test_ci_roles_trust_one_repository_and_one_environment_only(tree: TerraformTree) -> None:
    assume = tree.data(GITHUB_CI, "aws_iam_policy_document", "assume")["statement"]
    (statement,) = assume
    conditions = {expr(c["variable"]): (c["test"], c["values"]) for c in statement["condition"]}
    assert conditions["${local.github_issuer}:aud"] == ("StringEquals", ["sts.amazonaws.com"])
    assert conditions["${local.github_issuer}:sub"] == ("StringEquals", ["${local.subject}"])
    subject = tree.locals_of(GITHUB_CI)["subject"]
    assert subject == "repo:${var.github_repository}:environment:${var.github_environment}"
    variables = {n: b for p, n, b in tree.named("variable") if p.parent == GITHUB_CI}
    condition = expr(variables["github_repository"]["validation"][0]["condition"])
    assert "*" not in condition.replace("[A-Za-z0-9_.-]+", "")


def test_the_push_role_writes_only_to_the_platform_repositories(tree: TerraformTree) -> None:
    statements = tree.data(GITHUB_CI, "aws_iam_policy_document", "push")["statement"]
    by_sid = {statement["sid"]: statement for statement in statements}
    assert by_sid["LogInToTheRegistry"]["actions"] == ["ecr:GetAuthorizationToken"]
    push = by_sid["PushToTheseRepositories"]
    assert expr(push["resources"]) == "var.ecr_repository_arns"
    assert all(action.startswith("ecr:") and "*" not in action for action in push["actions"])
    assert not {"ecr:DeleteRepository", "ecr:BatchDeleteImage", "ecr:SetRepositoryPolicy"} & set(
        push["actions"]
    )
    call = tree.module_calls(PLATFORM)["github_ci"]
    assert "module.ecr.repository_arns[name]" in expr(call["ecr_repository_arns"])


def test_the_deploy_role_reaches_this_cluster_and_its_namespaces_only(
    tree: TerraformTree,
) -> None:
    (statement,) = tree.data(GITHUB_CI, "aws_iam_policy_document", "deploy")["statement"]
    assert statement["actions"] == ["eks:DescribeCluster"]
    assert statement["resources"] == ["${var.cluster_arn}"]
    association = tree.resource(GITHUB_CI, "aws_eks_access_policy_association", "deploy")
    assert association["access_scope"][0]["type"] == "namespace"
    assert expr(association["access_scope"][0]["namespaces"]) == "var.namespaces"
    assert "AmazonEKSAdminPolicy" in association["policy_arn"]
    cluster_rules = tree.resource(GITHUB_CI, "kubernetes_cluster_role_v1", "deployer_cluster")
    for rule in cluster_rules["rule"]:
        writes = set(rule["verbs"]) - {"get", "list", "watch"}
        # Anything beyond reading is limited to the operator chart's own objects, by name.
        assert not writes or rule.get("resource_names"), rule
        assert not {"create", "delete"} & set(rule["verbs"]), rule


def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it() -> None:
    # A tag can be moved to other code; a commit cannot. The comment says which release.
    pinned = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
    for workflow in sorted((REPO / ".github" / "workflows").glob("*.yml")):
        steps = [
            line.split("uses:", 1)[1].strip()
            for line in workflow.read_text().splitlines()
            if re.match(r"^\s*(- )?uses:", line)
        ]
        assert steps, workflow
        unpinned = [step for step in steps if not pinned.match(step)]
        assert not unpinned, f"{workflow.name}: {unpinned}"
