# What the GitHub workflow (.github/workflows/ci.yml) may do in AWS, and nothing more: an OIDC
# provider for GitHub's tokens (no stored access keys), a push role that writes to this
# environment's image repositories only, and a deploy role that reaches this one cluster only,
# where it administers the two release namespaces and may change only the operator chart's own
# cluster-wide objects (its CRD, ClusterRole and ClusterRoleBinding).
#
# Both roles trust only the workflow's jobs of one GitHub environment (sub claim
# repo:<owner>/<name>:environment:<env>), so the environment's protection rules (required
# reviewers, branch rules) gate every push and deploy.

data "aws_partition" "current" {}

locals {
  partition         = data.aws_partition.current.partition
  github_issuer     = "token.actions.githubusercontent.com"
  oidc_provider_arn = var.oidc_provider_arn != null ? var.oidc_provider_arn : aws_iam_openid_connect_provider.github[0].arn
  subject           = "repo:${var.github_repository}:environment:${var.github_environment}"
  deployer_group    = "sora:github-deployers"
}

# One per account: AWS refuses a second provider with the same URL.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.oidc_provider_arn == null ? 1 : 0

  url            = "https://${local.github_issuer}"
  client_id_list = ["sts.amazonaws.com"]

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.github_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.github_issuer}:sub"
      values   = [local.subject]
    }
  }
}

# --- Push: these repositories only -----------------------------------------------------------------

data "aws_iam_policy_document" "push" {
  #checkov:skip=CKV_AWS_356:ecr:GetAuthorizationToken has no resource-level permissions; AWS documents "*" as its only resource.
  statement {
    sid       = "LogInToTheRegistry"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushToTheseRepositories"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = var.ecr_repository_arns
  }
}

resource "aws_iam_role" "push" {
  name                 = "${var.name}-${var.role_names.push}"
  description          = "GitHub ${var.github_repository} (${var.github_environment}): push images to ${var.name}'s repositories"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600

  tags = var.tags
}

resource "aws_iam_role_policy" "push" {
  name   = "push-images"
  role   = aws_iam_role.push.id
  policy = data.aws_iam_policy_document.push.json
}

# --- Deploy: this cluster only ---------------------------------------------------------------------

data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "ReachThisCluster"
    actions   = ["eks:DescribeCluster"]
    resources = [var.cluster_arn]
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.name}-${var.role_names.deploy}"
  description          = "GitHub ${var.github_repository} (${var.github_environment}): helm upgrade of Sora on ${var.cluster_name}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600

  tags = var.tags
}

resource "aws_iam_role_policy" "deploy" {
  name   = "reach-cluster"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}

resource "aws_eks_access_entry" "deploy" {
  cluster_name      = var.cluster_name
  principal_arn     = aws_iam_role.deploy.arn
  type              = "STANDARD"
  kubernetes_groups = [local.deployer_group]

  tags = var.tags
}

# Namespace admin (Deployments, Services, Secrets of Helm's release records, Roles) in the release
# namespaces only.
resource "aws_eks_access_policy_association" "deploy" {
  cluster_name  = var.cluster_name
  principal_arn = aws_eks_access_entry.deploy.principal_arn
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy"

  access_scope {
    type       = "namespace"
    namespaces = var.namespaces
  }
}

# What the namespace admin policy lacks: the operator chart's cluster-scoped objects, by name.
resource "kubernetes_cluster_role_v1" "deployer_cluster" {
  metadata {
    name = "sora-github-deployer-cluster"
  }

  rule {
    api_groups     = ["apiextensions.k8s.io"]
    resources      = ["customresourcedefinitions"]
    resource_names = [var.crd_name]
    verbs          = ["get", "update", "patch"]
  }

  rule {
    api_groups     = ["rbac.authorization.k8s.io"]
    resources      = ["clusterroles", "clusterrolebindings"]
    resource_names = [var.operator_cluster_role]
    verbs          = ["get", "update", "patch", "bind", "escalate"]
  }

  # Helm lists these to find what a release owns.
  rule {
    api_groups = ["apiextensions.k8s.io", "rbac.authorization.k8s.io"]
    resources  = ["customresourcedefinitions", "clusterroles", "clusterrolebindings"]
    verbs      = ["list", "watch"]
  }
}

resource "kubernetes_cluster_role_binding_v1" "deployer_cluster" {
  metadata {
    name = "sora-github-deployer-cluster"
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role_v1.deployer_cluster.metadata[0].name
  }

  subject {
    kind      = "Group"
    name      = local.deployer_group
    api_group = "rbac.authorization.k8s.io"
  }
}

# The release namespaces exist before their RoleBindings (Helm's create_namespace accepts them).
resource "kubernetes_namespace_v1" "release" {
  for_each = toset(var.namespaces)

  metadata {
    name = each.value
  }
}

# The custom resources the charts apply (the SoraDeployment, the Prometheus Operator's rules and
# monitors), granted per release namespace by RoleBindings.
resource "kubernetes_cluster_role_v1" "deployer_namespaced" {
  metadata {
    name = "sora-github-deployer"
  }

  rule {
    api_groups = ["sora.example.com"]
    resources  = ["soradeployments"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }

  rule {
    api_groups = ["monitoring.coreos.com"]
    resources  = ["prometheusrules", "servicemonitors", "podmonitors"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
}

resource "kubernetes_role_binding_v1" "deployer_namespaced" {
  for_each = toset(var.namespaces)

  metadata {
    name      = "sora-github-deployer"
    namespace = kubernetes_namespace_v1.release[each.key].metadata[0].name
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role_v1.deployer_namespaced.metadata[0].name
  }

  subject {
    kind      = "Group"
    name      = local.deployer_group
    api_group = "rbac.authorization.k8s.io"
  }
}
