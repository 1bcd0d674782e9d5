# EKS-managed add-ons, each at the default version EKS pairs with the cluster's Kubernetes
# version (so the versions are pinned by kubernetes_version and move only when it does).
# The networking add-ons go in before the nodes; those that schedule pods after them.

locals {
  addons_before_nodes = toset(["vpc-cni", "kube-proxy"])

  # The VPC CNI enforces NetworkPolicies (its network policy agent on every node): the policies
  # the operator writes (each service's port open to the ALB's subnets and its own platform only)
  # take effect, as the seed's security groups did.
  addon_configuration = merge(
    { "vpc-cni" = jsonencode({ enableNetworkPolicy = "true" }) },
    # Container Insights' Fluent Bit with the application pipeline given (the Sora services into
    # their own log groups: module monitoring).
    var.enable_container_insights && var.fluent_bit_application_config != null ? {
      "amazon-cloudwatch-observability" = jsonencode({
        containerLogs = {
          enabled   = true
          fluentBit = { config = { extraFiles = { "application-log.conf" = var.fluent_bit_application_config } } }
        }
      })
    } : {},
  )

  addons_after_nodes = merge(
    {
      "coredns"            = null
      "aws-ebs-csi-driver" = module.ebs_csi_role.arn
      # metrics-server feeds `kubectl top` and the HorizontalPodAutoscaler of the file server.
      "metrics-server" = null
    },
    var.enable_container_insights ? { "amazon-cloudwatch-observability" = module.cloudwatch_agent_role[0].arn } : {},
  )
}

data "aws_eks_addon_version" "this" {
  for_each = setunion(local.addons_before_nodes, keys(local.addons_after_nodes))

  addon_name         = each.key
  kubernetes_version = aws_eks_cluster.this.version
}

resource "aws_eks_addon" "before_nodes" {
  for_each = local.addons_before_nodes

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = data.aws_eks_addon_version.this[each.key].version
  configuration_values        = lookup(local.addon_configuration, each.key, null)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags
}

resource "aws_eks_addon" "after_nodes" {
  for_each = local.addons_after_nodes

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = data.aws_eks_addon_version.this[each.key].version
  service_account_role_arn    = each.value
  configuration_values        = lookup(local.addon_configuration, each.key, null)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags

  depends_on = [aws_eks_node_group.this]
}

# The EBS CSI controller creates, attaches and deletes the volumes behind PersistentVolumeClaims
# (the feedback database) with the AWS managed policy made for it, through IRSA.
module "ebs_csi_role" {
  source = "../irsa-role"

  name              = "${var.cluster_name}-ebs-csi"
  description       = "EBS CSI driver of ${var.cluster_name}"
  oidc_provider_arn = aws_iam_openid_connect_provider.this.arn
  oidc_issuer       = local.oidc_issuer
  service_accounts  = ["kube-system:ebs-csi-controller-sa"]
  managed_policies = {
    AmazonEBSCSIDriverPolicy = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
  }

  tags = var.tags
}

# Container Insights metrics (the CPU and memory alarms) and Fluent Bit container logs.
module "cloudwatch_agent_role" {
  source = "../irsa-role"
  count  = var.enable_container_insights ? 1 : 0

  name              = "${var.cluster_name}-cloudwatch-agent"
  description       = "CloudWatch agent and Fluent Bit (Container Insights) of ${var.cluster_name}"
  oidc_provider_arn = aws_iam_openid_connect_provider.this.arn
  oidc_issuer       = local.oidc_issuer
  service_accounts  = ["amazon-cloudwatch:cloudwatch-agent"]
  managed_policies = {
    CloudWatchAgentServerPolicy = "arn:${local.partition}:iam::aws:policy/CloudWatchAgentServerPolicy"
  }

  tags = var.tags
}
