# Node autoscaling: the Kubernetes cluster autoscaler, which adds nodes when pods cannot be
# scheduled (the file server's HPA reaching its maximum) and removes nodes left idle, within the
# node group's min_size..max_size. It finds the node group's Auto Scaling group by the
# k8s.io/cluster-autoscaler/* tags (module eks tags the group), and acts through an IRSA role
# that can change only Auto Scaling groups tagged as owned by this cluster.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  image_tag  = coalesce(var.image_tag, "v${var.kubernetes_version}.0")
}

data "aws_iam_policy_document" "autoscaler" {
  #checkov:skip=CKV_AWS_356:The Describe* calls of Auto Scaling and EC2 have no resource-level permissions; AWS documents "*" as their only resource.
  statement {
    sid = "DiscoverNodeGroups"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "ReadThisClustersNodeGroups"
    actions   = ["eks:DescribeNodegroup"]
    resources = ["arn:${local.partition}:eks:${var.region}:${local.account_id}:nodegroup/${var.cluster_name}/*/*"]
  }

  # Only groups tagged as this cluster's (the tag module eks sets on its node group).
  statement {
    sid       = "ResizeThisClustersNodeGroupsOnly"
    actions   = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    resources = ["arn:${local.partition}:autoscaling:${var.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.cluster_name}"
      values   = ["owned"]
    }
  }
}

module "role" {
  source = "../irsa-role"

  name              = "${var.cluster_name}-cluster-autoscaler"
  description       = "Cluster autoscaler of ${var.cluster_name}"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  service_accounts  = ["${var.namespace}:${var.service_account_name}"]
  inline_policies   = { "resize-node-groups" = data.aws_iam_policy_document.autoscaler.json }

  tags = var.tags
}

resource "helm_release" "autoscaler" {
  name       = "cluster-autoscaler"
  repository = var.chart_repository
  chart      = "cluster-autoscaler"
  version    = var.chart_version
  namespace  = var.namespace

  wait    = true
  timeout = 600

  values = [yamlencode({
    cloudProvider = "aws"
    awsRegion     = var.region
    autoDiscovery = { clusterName = var.cluster_name }
    # The autoscaler's minor version must be the cluster's.
    image        = { tag = local.image_tag }
    replicaCount = 1
    rbac = {
      serviceAccount = {
        create      = true
        name        = var.service_account_name
        annotations = { "eks.amazonaws.com/role-arn" = module.role.arn }
      }
    }
    extraArgs = {
      # Spot groups of several instance types stay balanced across zones.
      "balance-similar-node-groups" = true
      expander                      = "least-waste"
      # The file server's download cache is an emptyDir: losing it on scale-down costs one
      # refill from S3, not data, so such nodes may be removed.
      "skip-nodes-with-local-storage" = false
      "scale-down-unneeded-time"      = var.scale_down_unneeded_time
      "scale-down-delay-after-add"    = var.scale_down_delay_after_add
    }
  })]
}
